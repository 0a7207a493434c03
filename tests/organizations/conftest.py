import pytest
from rest_framework.test import APIClient

from tests.conftest import Member
from tests.organizations.factories import MembershipFactory


@pytest.fixture
def colleague():
    """colleague(member, role) -> a Member of the same organisation with that role."""

    def make(of: Member, role: str) -> Member:
        membership = MembershipFactory(organization=of.org, role=role)
        client = APIClient()
        client.force_authenticate(membership.user)
        client.credentials(HTTP_X_ORGANIZATION=str(of.org.pk))
        return Member(user=membership.user, org=of.org, client=client)

    return make
