"""The OpenAPI schema endpoint (its own module: DRF settings import config.api and config.schema,
and drf_spectacular.views imports DRF settings, so it cannot live in either)."""

import threading

from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """/api/schema/, built one request at a time: drf-spectacular loads its extension classes lazily
    and not thread-safely, so concurrent first requests on a fresh server failed with a 500."""

    _lock = threading.Lock()

    def _get_schema_response(self, request):
        with self._lock:
            return super()._get_schema_response(request)
