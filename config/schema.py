"""Schema conventions for every API view (other apps get them without doing anything):

- request bodies are JSON only (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES); an upload view declares
  multipart itself (`parser_classes = config.parsers.UPLOAD_PARSERS`);
- every constraint the server enforces is declared: decimal strings carry a pattern that a value
  must match (no empty string, no sign when the field has `min_value >= 0`), non-empty lists carry
  `minItems`, `page_size` its maximum, the `X-Organization` header is a parameter of every
  authenticated operation, the token scheme says its `Token ` prefix;
- the document is valid OpenAPI 3 (openapi-spec-validator; tests/test_schema_contract.py).
"""


from decimal import Decimal

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

X_ORGANIZATION_DESCRIPTION = (
    "The acting organisation's id (one you are a member of). Without it: your session's choice in the "
    "browser, else your first organisation. An organisation you do not belong to, or a value that is "
    "not an id, is a 403."
)
TOKEN_DESCRIPTION = (
    "`Authorization: Token <key>`: the word `Token`, one space, then the key from "
    "`POST /api/v1/auth/token/` (e.g. `Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b`)."
)


def decimal_pattern(field: serializers.DecimalField) -> str:
    """What the field accepts as a plain decimal string: at least one digit before the point, at most
    max_digits - decimal_places of them, at most decimal_places after it; a sign only if negatives
    are allowed."""
    whole = "\\d+" if field.max_digits is None else None
    if whole is None:
        whole_digits = field.max_digits - (field.decimal_places or 0)
        whole = f"\\d{{1,{max(whole_digits, 1)}}}"
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    places = field.decimal_places
    fraction = "" if places == 0 else (f"(?:\\.\\d{{1,{places}}})?" if places else "(?:\\.\\d+)?")
    if places and field.min_value is not None and 0 < Decimal(field.min_value) <= Decimal(1).scaleb(-places):
        # "Positive" (amounts, prices: min_value is the smallest step): some digit is not 0.
        # Leading zeros do not count as digits (the server reads the number), so `0*` is free.
        whole_digits = None if field.max_digits is None else max(field.max_digits - places, 1)
        nonzero_whole = "0*[1-9]\\d*" if whole_digits is None else f"0*[1-9]\\d{{0,{whole_digits - 1}}}"
        nonzero_fraction = "|".join(f"0{{{k}}}[1-9]\\d{{0,{places - 1 - k}}}" for k in range(places))
        return f"^(?:{nonzero_whole}{fraction}|0+\\.(?:{nonzero_fraction}))$"
    return f"^{sign}{whole}{fraction}$"


class AutoSchema(openapi.AutoSchema):
    """Component names from the serializer's qualified name, so the styleguide's nested
    `InputSerializer`/`OutputSerializer` classes never collide: `MeApi.OutputSerializer` -> `MeOutput`,
    `MeApi.OutputSerializer.MembershipSerializer` -> `MeOutputMembership`."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return name
        parts = [part.removesuffix("Serializer").removesuffix("Api") for part in qualname.split(".")]
        return "".join(parts)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        if isinstance(field, (serializers.ListField, serializers.ListSerializer)) and schema.get("type") == "array":
            if not getattr(field, "allow_empty", True):
                schema["minItems"] = max(1, schema.get("minItems", 0))
        return schema

    def _unwrap_list_serializer(self, serializer, direction):
        """A top-level list body (`Serializer(many=True, allow_empty=False)`) says it needs an item."""
        schema = super()._unwrap_list_serializer(serializer, direction)
        if (isinstance(schema, dict) and schema.get("type") == "array"
                and not getattr(serializer, "allow_empty", True)):
            schema["minItems"] = max(1, schema.get("minItems", 0))
        return schema

    def get_override_parameters(self):
        """`X-Organization` on every authenticated API operation (unless the view declares it)."""
        from rest_framework.permissions import AllowAny

        parameters = list(super().get_override_parameters())
        if (self.path.startswith("/api/v1/")
                and not any(issubclass(p, AllowAny) for p in getattr(self.view, "permission_classes", []))
                and not any(getattr(p, "name", None) == "X-Organization" for p in parameters)):
            from drf_spectacular.utils import OpenApiParameter

            parameters.append(OpenApiParameter(
                "X-Organization", OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
                description=X_ORGANIZATION_DESCRIPTION,
            ))
        return parameters

    def _get_paginator(self):
        """Our list endpoints are plain APIViews that paginate by hand with `config.api.Pagination`;
        document their GET lists as the paginated object they answer, with `page` and `page_size`."""
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            from config.api import Pagination

            return Pagination()
        return paginator

    def _get_response_bodies(self, direction="response"):
        """Document the error answers every API operation can give (shared/api-contract.md, Errors),
        unless the view documents its own: 400 field map, 401/403/404 (authenticated views), 409 (state
        steps on an object), 422 (Idempotency-Key). Clients and schemathesis rely on it."""
        from rest_framework.permissions import AllowAny

        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses
        codes = {"400": "Bad input: a field map, {\"field\": [\"message\"]} (`non_field_errors` for the rest)."}
        if not any(issubclass(p, AllowAny) for p in getattr(self.view, "permission_classes", [])):
            codes["401"] = "Not logged in."
            codes["403"] = "Logged in but not allowed (or no acting organisation)."
            # Also a list's `page` past the end, or a body's reference to another organisation's object.
            codes["404"] = "No such object, or it belongs to another organisation."
        if self.method in ("POST", "PATCH", "PUT", "DELETE"):
            # Any write can meet a state it cannot go on from: a step out of turn, or (on a create)
            # stock that another order took first (config.errors.StateConflict).
            codes["409"] = "Conflicts with the current state: a step out of turn, or stock already taken."
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()):
            codes["422"] = "This Idempotency-Key was already used with a different request body."
        # Answered by gunicorn before Django (config/gunicorn.py limit_request_line), as text.
        responses.setdefault("414", {"description": "The URL is longer than 8 KB (query strings included)."})
        for code, description in codes.items():
            responses.setdefault(code, {
                "description": description,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
            })
        return responses


def postprocess_schema(result, generator, request, public):
    """Whole-document fixes spectacular cannot make per field (SPECTACULAR_SETTINGS hook)."""
    schemes = result.get("components", {}).get("securitySchemes", {})
    if "tokenAuth" in schemes:
        schemes["tokenAuth"]["description"] = TOKEN_DESCRIPTION
        schemes["tokenAuth"]["x-token-prefix"] = "Token"

    def walk(node):
        if isinstance(node, dict):
            # `default: ''` next to `minLength: 1` is an invalid document: the server fills the empty
            # default in when the field is left out, but refuses "" when sent. Leaving it out is
            # what a client should do, so the default goes and the constraint stays.
            if node.get("default") == "" and node.get("minLength", 0) >= 1:
                del node["default"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
