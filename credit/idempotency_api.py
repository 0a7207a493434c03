"""The `Idempotency-Key` header as every API that moves money or stock takes it (credit's
payments and payouts, the marketplace's orders, trials' starts and sales): one schema parameter and
one way to run a request at most once. The keys themselves are kept by
`credit.services.idempotency`."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from config.errors import DomainValidationError
from credit.services.idempotency import idempotency_run, request_fingerprint

MAX_KEY_LENGTH = 255  # the key column's size: a longer key is a 400, not a database error

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "\\S"},
    OpenApiParameter.HEADER, required=False,
    description="Any unique string (1 to 255 characters, not only spaces). A replay with the same key and body "
                "returns the first response and does nothing again; the same key with another body is refused with 422.",
)


class IdempotencyKeyInvalid(DomainValidationError):
    pass


def idempotent_response(request, *, scope: str, execute) -> Response:
    """Run `execute() -> (status, body)` at most once per (scope, Idempotency-Key); without the
    header, just run it. A replay says so in `Idempotent-Replayed: true`."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and (not key.strip() or len(key) > MAX_KEY_LENGTH):
        raise IdempotencyKeyInvalid({"Idempotency-Key": [
            f"Use a key of 1 to {MAX_KEY_LENGTH} characters that is not only spaces."]})
    fingerprint = request_fingerprint(method=request.method, path=request.path, body=request.data)
    status_code, body, replayed = idempotency_run(scope=scope, key=key, fingerprint=fingerprint, execute=execute)
    response = Response(body, status=status_code)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
