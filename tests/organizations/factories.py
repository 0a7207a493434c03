import factory
from django.contrib.auth import get_user_model

from organizations.models import Membership, Organization


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("kitstreet")


class OrganizationFactory(factory.django.DjangoModelFactory):
    """A verified buyer by default; `supplier=True` traits below for the supplier kinds."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    is_buyer = True
    verified = True
    default_currency = "CNY"

    class Params:
        trader = factory.Trait(is_buyer=False, is_supplier=True, is_trader=True)
        solution_house = factory.Trait(is_buyer=False, is_supplier=True, is_solution_house=True)
        factory_kind = factory.Trait(is_buyer=False, is_supplier=True, is_factory=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.OWNER
