import os

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from config import console, desk, system
from config.api import api_not_found
from config.events.api import EventListApi
from config.schema_view import SchemaView
from config import views as site_views
from credit import urls as credit_urls
from marketplace import urls as marketplace_urls
from organizations import urls as organizations_urls
from trials import urls as trials_urls

api_v1 = [
    *organizations_urls.api_urlpatterns,
    *marketplace_urls.api_urlpatterns,
    *credit_urls.api_urlpatterns,
    *trials_urls.api_urlpatterns,
    path("events/", EventListApi.as_view(), name="event-list"),
    path("system/ping/", system.WorkerPingApi.as_view(), name="worker-ping"),
    path("tasks/<str:task_id>/", system.TaskStatusApi.as_view(), name="task-status"),
    # Last: any other /api/v1/.../ URL is a JSON 404 (ending in "/" so APPEND_SLASH still redirects).
    re_path(r"^[\s\S]*/$", api_not_found),  # [\s\S]: a path may hold an encoded newline
]

urlpatterns = [
    path("", site_views.home, name="home"),
    path("login/", site_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("system/", system.system_page, name="system"),
    path("desk/", desk.desk_view, name="desk"),
    path("desk/verify/<int:pk>/", console.verify_view, name="desk-verify"),
    path("desk/verification/", console.verification_view, name="console-verification"),
    path("desk/events/", console.events_view, name="console-events"),
    path("", include(organizations_urls.urlpatterns)),  # signup, switcher, members: names without a namespace
    path("", include((marketplace_urls.urlpatterns, "marketplace"))),
    path("credit/", include((credit_urls.urlpatterns, "credit"))),
    path("trials/", include((trials_urls.urlpatterns, "trials"))),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin): answer, not 404.
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg", permanent=True)),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if os.environ.get("KITSTREET_BENCH_VIEWS") == "1":  # bench/http_load.py baselines, never in production
    from config import bench_views

    urlpatterns += [
        path("bench/trivial-json/", bench_views.trivial_json),
        path("bench/trivial-drf/", bench_views.TrivialApi.as_view()),
    ]

admin.site.site_header = "Kitstreet operations"
admin.site.site_title = "Kitstreet admin"
admin.site.index_title = "Run the market"
