"""Pages offer only what the server accepts: a viewer sees no form that would change anything (only
a note of who can), a member sees the same pages with their forms. The pages and the API read one
role table (`organizations.access.ACTION_ROLES`)."""

import re

import pytest
from django.core.management import call_command

from organizations.access import ACTION_ROLES, PagePermissions
from organizations.models import Membership
from tests.marketplace.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# The page header's own POST forms (organisation switcher, log out) and a member leaving.
HEADER_FORMS = {"/switch-organization/", "/logout/"}


def post_forms(html: str) -> list[str]:
    """Where each POST form of the page's <main> would send its data."""
    main = html.split("<main", 1)[1]
    out = []
    for tag in re.findall(r"<form\b[^>]*>", main, re.I):
        if re.search(r'method="post"', tag, re.I):
            action = re.search(r'action="([^"]*)"', tag)
            out.append(action[1] if action else "(this page)")
    return out


@pytest.mark.parametrize("role, write, manage", [("viewer", False, False), ("member", True, False),
                                                  ("admin", True, True), ("owner", True, True)])
def test_page_permissions_follow_the_api_role_table(role, write, manage):
    membership = MembershipFactory(role=role)
    can = PagePermissions(membership)
    assert (can.write, can.manage) == (write, manage)
    assert can.may("write") == membership.allows(ACTION_ROLES["write"])
    assert bool(can.note()) is not write  # a note exactly where the forms are missing


def test_the_note_names_who_can_change_the_role():
    owner = MembershipFactory(role="owner", user__username="lin")
    viewer = MembershipFactory(role="viewer", organization=owner.organization)
    note = PagePermissions(viewer).note(doing="award bids")
    assert "viewer" in note and "award bids" in note and owner.organization.name in note and "lin" in note


@pytest.fixture
def demo_with_a_bom():
    call_command("seed_demo", "--seed", "5", verbosity=0)
    from marketplace.models import Quote, Rfq
    from marketplace.boms.services import bom_upload
    from trials.models import Trial

    lumen = Membership.objects.get(user__username="buyer_viewer").organization
    bom = bom_upload(owner=lumen, content=b"MPN,Qty,Designator\nSTM32G030F6P6,1,U1\nNOSUCHPART-X1,2,R1 R2\n",
                     filename="board.csv", name="Board rev A")
    quote = Quote.objects.filter(organization=lumen).order_by("-pk").first()
    kit = quote.kit
    pages = [f"/boms/{bom.pk}/", "/boms/", f"/kits/{kit.pk}/", f"/quotes/{quote.pk}/", "/rfqs/", "/rfqs/new/",
             "/trials/", "/trials/new/", "/trials/webhooks/", "/inbox/", "/parts/?q=esp32&view=offers&qty=10"]
    from marketplace.models import BuyerStock
    from marketplace.plans.services import PlanSource, purchase_plan_create

    BuyerStock.objects.create(organization=lumen, part=kit.bom_lines.first().part, quantity=3)
    plan = purchase_plan_create(organization=lumen, sources=[PlanSource(kit=kit, quantity=2), PlanSource(bom=bom, quantity=2)])
    pages += ["/stock/", "/plans/", f"/plans/{plan.pk}/"]
    pages += [f"/rfqs/{r.pk}/" for r in Rfq.objects.filter(buyer=lumen)]
    pages += [f"/trials/{t.pk}/" for t in Trial.objects.filter(organization=lumen).order_by("-pk")[:4]]
    return pages


def test_a_viewer_sees_no_write_form_on_the_bom_kit_rfq_and_trial_pages_and_a_member_does(client, demo_with_a_bom):
    client.login(username="buyer_viewer", password="kitstreet")
    for path in demo_with_a_bom:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not set(post_forms(html)) - HEADER_FORMS, f"{path} offers a viewer {post_forms(html)}"
        main = html.split("<main", 1)[1]
        assert 'href="/rfqs/new/"' not in main and 'href="/trials/new/"' not in main, path
    for path in ("/rfqs/new/", "/trials/new/", demo_with_a_bom[0]):
        assert "You are a viewer at Lumen Labs" in client.get(path).content.decode(), path

    client.login(username="buyer", password="kitstreet")  # the owner: the same pages carry their forms
    offered = {path: post_forms(client.get(path).content.decode()) for path in demo_with_a_bom}
    assert offered[demo_with_a_bom[0]] and offered["/rfqs/new/"] and offered["/trials/new/"]
    assert offered["/stock/"] and offered["/plans/"]
    assert any("/award/" in action for forms in offered.values() for action in forms)
