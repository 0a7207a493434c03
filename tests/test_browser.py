"""End-to-end in a real browser: Debian's Chromium driven by Playwright against a live server.

Skipped (with the reason) where Chromium or Playwright is missing; CI installs both.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def live_server(django_db_setup, django_db_blocker):
    """pytest-django's live server, but torn down before the test database: its thread's database
    connections would otherwise keep PostgreSQL from dropping it."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"))
    yield server
    server.stop()


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are still
    # synchronous, so tell Django not to refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        page = browser.new_page(base_url=live_server.url)
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def log_in(page, username: str, password: str = "kitstreet") -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_sign_up_as_a_supplier_then_log_out_and_back_in(page):
    page.goto("/signup/")
    page.fill("input[name=username]", "stall22")
    page.fill("input[name=password1]", "a-Long-passw0rd")
    page.fill("input[name=password2]", "a-Long-passw0rd")
    page.fill("input[name=organization_name]", "Stall 3F-C22")
    page.check("input[name=kinds][value=trader]")
    page.click("button[type=submit]")
    assert "Awaiting verification" in page.inner_text("main")
    assert page.locator("h1").inner_text() == "Stall 3F-C22"

    page.click("summary:has-text('stall22')")
    page.click("button:has-text('Log out')")
    page.goto("/")
    assert page.url.endswith("/login/")

    log_in(page, "stall22", "wrong")
    assert "correct username and password" in page.inner_text("main")
    log_in(page, "stall22", "a-Long-passw0rd")
    assert page.locator("h1").inner_text() == "Stall 3F-C22"


@pytest.fixture
def lin_of_two_organisations(transactional_db):
    # Made before the browser starts: ORM calls inside Playwright's event loop would open a
    # second, context-local connection that outlives the test.
    from tests.marketplace.factories import MembershipFactory, UserFactory

    user = UserFactory(username="lin")
    MembershipFactory(user=user, organization__name="Lumen Labs")
    MembershipFactory(user=user, organization__name="Pocket Robotics")
    return user


def test_organisation_switcher_changes_what_the_dashboard_shows(lin_of_two_organisations, page):
    log_in(page, "lin")
    assert page.locator("h1").inner_text() == "Lumen Labs"
    page.select_option("select[name=organization]", label="Pocket Robotics")
    page.wait_for_selector("h1:has-text('Pocket Robotics')")
    assert "You are now acting for Pocket Robotics" in page.inner_text("main")


def test_the_login_form_says_when_a_username_is_locked_out(transactional_db, page, tmp_path):
    from tests.marketplace.factories import UserFactory

    UserFactory(username="mei")
    for _ in range(5):
        log_in(page, "mei", "wrong-password")
        assert "correct username and password" in page.inner_text("[role=alert]")
    log_in(page, "mei")  # the right password, but the username is locked for now
    alert = page.inner_text("[role=alert]")
    assert "Too many failed login attempts" in alert and "Try again in 15 minutes" in alert
    assert page.url.endswith("/login/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "login-locked.png"))
