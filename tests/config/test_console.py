"""The operator console: one menu over every operator page, with what waits there; its own pages."""

from datetime import datetime, timezone as dt_timezone

import pytest
from django.urls import reverse
from django.utils import timezone

from config.console import CONSOLE_MENU
from config.timezones import when, when_text
from organizations.services import organization_create
from tests.marketplace.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(username="desk", is_staff=True)
    client.force_login(user)
    return user


def header_links(html: str) -> list[str]:
    import re

    nav = html.split('<ul class="nav-links">', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", a).split()[0] for a in re.findall(r"<a [^>]*>(.*?)</a>", nav, re.S)]


def test_the_operator_has_one_menu_and_every_page_in_it_opens(client, operator):
    page = client.get(reverse("desk")).content.decode()
    links = header_links(page)
    assert links[:8] == ["Desk", "Verification", "Money", "Payouts", "Disputes", "FX", "Events", "System"]
    for item in CONSOLE_MENU:
        try:
            url = reverse(item.url_name)
        except Exception:
            continue  # a page another app has not installed is left out of the menu, not broken
        assert client.get(url).status_code == 200, url


def test_a_member_gets_no_console(client):
    member = MembershipFactory()
    client.force_login(member.user)
    assert "Verification" not in client.get("/").content.decode()
    assert client.get(reverse("console-verification")).status_code == 302  # to the admin login
    assert client.get(reverse("console-events")).status_code == 302


def test_the_verification_queue_shows_waiting_suppliers_with_a_count_and_verifies_after_asking(client, operator):
    owner = UserFactory(username="stall")
    org = organization_create(owner=owner, name="Wan Li Trading", kinds=["trader"], location="SEG 2F", verified=False)
    page = client.get(reverse("console-verification")).content.decode()
    assert "Wan Li Trading" in page and 'data-confirm="Verify Wan Li Trading?' in page
    assert 'Verification <span class="badge badge-warn">1</span>' in page  # the menu says work waits
    done = client.post(reverse("desk-verify", args=[org.pk]), {"next": "console-verification"}, follow=True).content.decode()
    org.refresh_from_db()
    assert org.verified and "Wan Li Trading is verified" in done and "Nobody is waiting" in done


def test_events_and_system_health_say_what_is_behind(client, operator):
    from config.outbox.models import OutboxMessage

    OutboxMessage.objects.create(task_name="marketplace.tasks.rfq_close", task_id="t1",
                                 created_at=timezone.now() - timezone.timedelta(hours=1))
    events = client.get(reverse("console-events")).content.decode()
    assert "marketplace.tasks.rfq_close" in events and "is <code>outbox_relay</code> running?" in events
    system = client.get(reverse("system")).content.decode()
    assert "Task outbox" in system and "1 message waiting for the broker" in system and "is the relay running?" in system


def test_times_are_shown_in_the_readers_zone_with_the_zone(client):
    moment = datetime(2026, 12, 7, 5, 4, tzinfo=dt_timezone.utc)
    with timezone.override("Asia/Shanghai"):
        assert when_text(moment) == "2026-12-07 13:04 UTC+8"
        assert ">2026-12-07 13:04</time>" in when(moment) and "UTC+8" in when(moment)
    with timezone.override("America/St_Johns"):
        assert when_text(moment) == "2026-12-07 01:34 UTC-3:30"
    member = MembershipFactory()
    client.force_login(member.user)
    client.cookies["tz"] = "Europe%2FBerlin"  # as the browser's script stores it
    assert "times in Europe/Berlin (UTC+1)" in client.get("/").content.decode()
    client.cookies["tz"] = "Not/AZone"  # unknown: the market's zone, said as such
    assert "times in Asia/Shanghai (UTC+8)" in client.get("/").content.decode()


def test_an_exchange_rate_confirmation_is_in_the_operators_zone_like_the_page(client, operator):
    client.cookies["tz"] = "Europe/Berlin"
    done = client.post(reverse("credit:fx-rates"), {"base": "USD", "quote": "CNY", "rate": "7.2",
                                                     "valid_from": "2026-12-07 09:00"}, follow=True).content.decode()
    assert "Rate saved: 1 USD = 7.2 CNY from 2026-12-07 09:00 UTC+1" in done  # typed and confirmed in Berlin time
    assert "2026-12-07 09:00</time>" in done  # the history row says the same moment
