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
