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
