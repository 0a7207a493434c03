"""Baselines for bench/http_load.py: the cheapest JSON answer Django and DRF can give, served by the same
processes as the API. Mounted only when KITSTREET_BENCH_VIEWS=1 (never in a real deployment)."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView


def trivial_json(request):
    """A plain Django view: no authentication, no database."""
    return JsonResponse({"ok": True})


class TrivialApi(APIView):
    """A DRF view with the API's authentication (token lookup) and permission, nothing else."""

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"ok": True, "user": request.user.pk})
