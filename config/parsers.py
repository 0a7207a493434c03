"""The API's request parsers. JSON is the default for every API view (REST_FRAMEWORK
`DEFAULT_PARSER_CLASSES`); a view that takes a file upload sets `parser_classes = UPLOAD_PARSERS`.
One body format per operation keeps the schema honest: a generated client sends exactly what the
server reads (nested bodies never go out as multipart)."""


from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deep enough for any real body (a kit's BOM with nested modules is < 10 levels), shallow enough
# that serializers and the json module never hit Python's recursion limit.
DEFAULT_MAX_DEPTH = 32


def json_depth_exceeds(value, limit: int) -> bool:
    """True when `value` nests lists/objects deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus a nesting limit: `[[[[...]]]]` 3,000 deep is a 400, not a 500
    RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        limit = getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH)
        if json_depth_exceeds(data, limit):
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels.")
        return data


UPLOAD_PARSERS = [parsers.MultiPartParser]

