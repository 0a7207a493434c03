"""Marketplace URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from marketplace import api, views

app_name = "marketplace"

api_urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("organizations/", api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("organizations/<int:pk>/", api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/verify/", api.OrganizationVerifyApi.as_view(), name="organization-verify"),
]

urlpatterns = [
    path("organizations/<int:pk>/", views.OrganizationDetailView.as_view(), name="organization-detail"),
]
