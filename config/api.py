"""Cross-cutting pieces of the REST API: pagination, error mapping, the acting organisation."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.fields import empty
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import IdempotencyConflict, StateConflict

# A dependency that is down (broker, database) is a 503 the client may retry after this many
# seconds, never a 500: the request changed nothing it did not commit.
RETRY_AFTER_SECONDS = 5


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as BrokerOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (BrokerOperationalError, RedisConnectionError, RedisTimeoutError, DatabaseOperationalError,
            DatabaseInterfaceError)


class WholeSerializer(serializers.Serializer):
    """A nested item that is whole even inside a PATCH. DRF reads `partial` from the root serializer,
    so a PATCH would skip the item's required fields (`[{"min_qty": 1}]` passes) and the view then
    fails on the missing key with a 500; a present item is validated as a whole instead."""

    def run_validation(self, data=empty):
        root = self.root
        if data is empty or root is self or not getattr(root, "partial", False):
            return super().run_validation(data)
        root.partial = False
        try:
            return super().run_validation(data)
        finally:
            root.partial = True


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        """`page_size` as the schema says: a whole number from 1 to the maximum, else a 400 (DRF
        would silently fall back to the default, so a typo would look like success)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view):
        """`page` and `page_size` with their bounds."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
        return parameters


def paginated_response(view, request, queryset, serialize) -> Response:
    """One page of `queryset` as `{"count", "next", "previous", "results"}`; `serialize(objects)`
    renders the whole page at once (one serializer call, not one per object)."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serialize(list(page)))


def validation_error_detail(error: ValidationError) -> dict:
    """Django ValidationError -> DRF's field map: {"field": ["message"]}, non-field errors under
    `non_field_errors`."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, StateConflict):
        return Response({"detail": exc.message, **getattr(exc, "extra", {})}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IdempotencyConflict):
        return Response({"detail": exc.message}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, _unavailable_errors()):
        import logging

        logging.getLogger("kitstreet.api").warning("503: a dependency is unavailable: %r", exc)
        return Response({"detail": "Temporarily unavailable; retry after the number of seconds in Retry-After."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return drf_exception_handler(exc, context)



@csrf_exempt  # a POST with a session cookie would otherwise get Django's HTML CSRF 403 page
def api_not_found(request, *args, **kwargs):
    """Unmatched /api/v1/ URLs (e.g. `/orders/abc/`) answer the API's JSON 404, not Django's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
