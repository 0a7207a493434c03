"""Trials URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

app_name = "trials"

api_urlpatterns: list = []
urlpatterns: list = []
