from drf_spectacular import openapi


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
        if "{" in self.path:
            if self.method in ("POST", "PATCH", "PUT", "DELETE"):
                codes["409"] = "A step out of turn for the object's current state."
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()):
            codes["422"] = "This Idempotency-Key was already used with a different request body."
        for code, description in codes.items():
            responses.setdefault(code, {
                "description": description,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
            })
        return responses
