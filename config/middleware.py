"""Site-wide request guards."""

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "Null characters are not allowed."


class NullCharacterQueryGuard:
    """A NUL character in a query parameter is a 400 before any view runs: PostgreSQL text cannot
    hold one, so a search filter carrying it would fail in the database (a 500). Request bodies are
    already checked by DRF's CharField and Django's form fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                if request.path.startswith("/api/"):
                    return JsonResponse({name.replace("\x00", ""): [NUL_MESSAGE]}, status=400)
                return HttpResponseBadRequest(NUL_MESSAGE)
        return self.get_response(request)


class BodySizeLimit:
    """A request body over the limit is refused with 413 before anything reads it: JSON for the
    API, plain text for pages. Django alone answers an oversized body with an HTML 400 (when it
    reads `request.body`), and DRF's parsers read the stream without any limit at all.

    Limits: `DATA_UPLOAD_MAX_MEMORY_SIZE` for ordinary bodies (JSON, forms), `UPLOAD_MAX_BODY_SIZE`
    for multipart uploads (a stock list or BOM file)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.UPLOAD_MAX_BODY_SIZE if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return body_too_large(request, limit)
        return self.get_response(request)


def body_too_large(request, limit: int) -> HttpResponse:
    message = f"Request body too large: the limit is {limit} bytes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


_ORGANIZATION_ID = re.compile(r"\d{1,18}")


class OrganizationHeaderGuard:
    """`X-Organization` must be an organisation id (digits). Anything else is answered on the API
    like an id you do not belong to: 403 (the acting-organisation lookup's answer), instead of being
    silently ignored. A 403 rather than a 400 because every operation documents its own 400 body
    (the stock-list import's is not a field map). The schema declares the header an integer on every
    authenticated operation (config/schema.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = request.META.get("HTTP_X_ORGANIZATION")
        if value is not None and request.path.startswith("/api/") and not _ORGANIZATION_ID.fullmatch(value.strip()):
            return JsonResponse({"detail": "X-Organization must be the id of an organisation you belong to."},
                                status=403)
        return self.get_response(request)
