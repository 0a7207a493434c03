"""Credit URLs: `api_urlpatterns` are mounted under /api/v1/, `urlpatterns` are HTML pages."""

app_name = "credit"

api_urlpatterns: list = []
urlpatterns: list = []
