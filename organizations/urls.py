"""Organisation URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

from django.urls import path

from organizations import api, views


api_urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="auth-token"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("organizations/<int:pk>/verify/", api.OrganizationVerifyApi.as_view(), name="organization-verify"),
]

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("switch-organization/", views.switch_organization, name="switch-organization"),
]
