"""Site-wide request guards."""

from django.http import HttpResponseBadRequest, JsonResponse

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
