"""REST endpoints of the organisations app: tokens, who am I, verification; members and
invitations."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations.access import get_acting_organization
from organizations.models import Organization, OrganizationKind
from organizations.selectors import membership_list
from organizations.services import organization_verify


class OrganizationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=OrganizationKind.choices))
    verified = serializers.BooleanField()
    default_currency = serializers.CharField()
    location = serializers.CharField()
    description = serializers.CharField()


def organization_output(org: Organization) -> dict:
    return OrganizationOutputSerializer(org).data


class AuthTokenApi(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("AuthToken", {"token": serializers.CharField()})},
    )
    def post(self, request):
        data = AuthTokenSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=data.validated_data["user"])
        return Response({"token": token.key})


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class MembershipSerializer(serializers.Serializer):
            id = serializers.IntegerField(source="organization.id")
            name = serializers.CharField(source="organization.name")
            kinds = serializers.ListField(child=serializers.CharField(), source="organization.kinds")
            verified = serializers.BooleanField(source="organization.verified")
            role = serializers.CharField()

        username = serializers.CharField()
        is_operator = serializers.BooleanField()
        acting_organization = serializers.IntegerField(allow_null=True)
        organizations = MembershipSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        org = get_acting_organization(request, required=False)
        payload = {
            "username": request.user.get_username(),
            "is_operator": request.user.is_staff,
            "acting_organization": org.pk if org else None,
            "organizations": membership_list(user=request.user),
        }
        return Response(self.OutputSerializer(payload).data)


class OrganizationVerifyApi(APIView):
    """Operators only: a verified supplier's listings and kits become visible to everyone."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=OrganizationOutputSerializer)
    def post(self, request, pk: int):
        org = organization_verify(organization=get_object_or_404(Organization, pk=pk))
        return Response(organization_output(org))
