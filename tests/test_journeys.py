"""Each role's main journey in a real browser, at desktop (1366 × 900) and phone (390 × 844) width.

Every page a journey reaches must have a heading (h1), log no console error and be no wider than
the window (document.documentElement.scrollWidth <= innerWidth). Dangerous steps must ask first:
the journeys accept each confirmation and check one was asked. Screenshots go to var/screenshots/
(kept as CI artefacts). Skipped where Chromium or Playwright is missing; CI installs both.
"""

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
NAV_COLLAPSES_BELOW = 1024  # static/css/site.css


@pytest.fixture(scope="module")
def live_server(django_db_setup, django_db_blocker):
    """As in test_browser.py: stopped before the test database is dropped."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"))
    yield server
    server.stop()


@pytest.fixture
def demo(transactional_db):
    """The demo world (`seed_demo`): realistic page sizes, the demo logins. Made before the
    browser starts (ORM calls inside Playwright's loop would open a second connection)."""
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", verbosity=0, stdout=StringIO())
    from organizations.models import Organization

    return {org.name: org for org in Organization.objects.all()}


@pytest.fixture
def browser(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield lambda: chromium, live_server.url
        chromium.close()


class Journey:
    """One person at one window size: opens pages, checks each one, keeps a screenshot."""

    def __init__(self, browser, journey: str, size: str):
        get_browser, base_url = browser
        width, height = WIDTHS[size]
        self.context = get_browser().new_context(viewport={"width": width, "height": height}, base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.name, self.size, self.width, self.step = journey, size, width, 0
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        self.page.on("dialog", self._accept)

    def _accept(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def check(self, label: str) -> None:
        """The page now shown: a heading, no console error, nothing wider than the window."""
        page = self.page
        page.wait_for_load_state("load")
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{self.name}-{self.size}-{self.step:02d}-{label}.png"), full_page=True)
        where = f"{self.name} at {self.width}px, step {self.step} ({label}, {page.url})"
        assert not self.errors, f"{where}: {self.errors}"
        heading = page.locator("h1")
        assert heading.count() >= 1 and heading.first.inner_text().strip(), f"{where}: no h1"
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{where}: the page is {scroll}px wide in a {inner}px window"

    def goto(self, path: str, label: str) -> None:
        self.page.goto(path)
        self.check(label)

    def nav(self, link: str, label: str) -> None:
        """Follow a header link, opening the phone menu first where the header is collapsed."""
        page = self.page
        if self.width < NAV_COLLAPSES_BELOW:
            assert not page.locator(".site-menu").is_visible(), "the phone header should start collapsed"
            page.click("button.nav-toggle")
        page.locator(".site-menu").get_by_role("link", name=re.compile(rf"^{re.escape(link)}(\s+\d+)?$")).click()
        self.check(label)

    def header_links(self) -> list[str]:
        # Without the unread-count badge ("Inbox 2" -> "Inbox").
        return [re.sub(r"\s+\d+$", "", t.strip()) for t in self.page.locator(".site-menu .nav-links a").all_text_contents()]

    def tour(self) -> list[str]:
        """Visit every page the header offers (each must pass `check`); return their names."""
        links = self.header_links()
        for link in links:
            self.nav(link, f"tour-{link.lower().replace(' ', '-')}")
        return links

    def switch_organization(self, name: str) -> None:
        if self.width < NAV_COLLAPSES_BELOW:
            self.page.click("button.nav-toggle")
        self.page.select_option("select[name=organization]", label=name)
        self.page.wait_for_selector(f"text=You are now acting for {name}")
        self.check("switched")

    def log_in(self, username: str) -> None:
        self.page.goto("/login/")
        self.check("login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "kitstreet")
        self.page.click("main button[type=submit]")
        self.check("dashboard")

    def close(self) -> None:
        self.context.close()


def _each_size(browser, name, run):
    for stale in SHOTS.glob(f"{name}-*.png"):  # a shorter journey must not leave old steps behind
        stale.unlink()
    for size in WIDTHS:
        journey = Journey(browser, name, size)
        try:
            run(journey)
        finally:
            journey.close()


# --- Buyer: search -> quote -> order -> pay the deposit ---------------------------------------------


# Each journey's own data is made in a fixture listed before `browser`: ORM calls inside Playwright's
# event loop (the test body) would open a second connection that outlives the test.


@pytest.fixture
def kit_to_order(demo):
    from credit.services import wallet_topup
    from marketplace.models import Kit

    wallet_topup(organization=demo["Lumen Labs"], amount=Decimal("500000.00"), currency="CNY", reference="journey")
    return Kit.objects.filter(name__icontains="tracker").order_by("pk").first() or Kit.objects.order_by("pk").first()


def test_buyer_searches_quotes_a_kit_orders_it_and_pays_the_deposit(kit_to_order, browser):
    kit = kit_to_order

    def run(j: Journey) -> None:
        page = j.page
        j.log_in("buyer")
        assert j.tour() == ["Parts", "Kits", "BOMs", "Quotes", "Plans", "Orders", "RFQs", "Inbox", "Money", "Trials", "Funnel"]
        j.nav("Parts", "search")
        page.fill("input[name=q]", "esp32")
        page.fill("input[name=qty]", "100")
        page.locator("main form button[type=submit]").first.click()
        j.check("search-results")
        assert page.locator("main table tbody tr").count() > 0

        j.nav("Kits", "kits")
        j.goto(f"/kits/{kit.pk}/", "kit")
        page.fill("#quote-form input[name=quantity]", "200")
        page.click("#quote-form button[type=submit]")
        page.get_by_role("button", name=re.compile(r"Open quote \d+")).click()
        j.check("quote")
        assert "By vendor" in page.inner_text("main")
        review = page.locator("#order")
        assert "Deposit into escrow, from your wallet now" in review.inner_text()
        deposit = review.locator("tr", has_text="Deposit into escrow").locator("td.num").inner_text()

        review.get_by_role("button", name=re.compile("Place the order")).click()
        j.check("order")
        assert j.dialogs and "Place the order" in j.dialogs[-1]
        assert page.locator("main table.summary-table").first.is_visible()  # the summary comes first
        assert "Placed" in page.inner_text("main") or "placed" in page.inner_text("main")
        assert deposit.split()[0] in page.inner_text("main")  # the deposit taken is the one announced

        # The quote now links to its order and offers no second one.
        page.get_by_role("link", name=re.compile(r"quote \d+")).first.click()
        j.check("quote-ordered")
        assert page.get_by_role("link", name=re.compile(r"order #\d+")).count() == 1
        assert page.get_by_role("button", name=re.compile("Place the order")).count() == 0

        j.nav("Quotes", "quotes")
        j.nav("Money", "wallet")
        assert "escrow" in page.inner_text("main").lower()

    _each_size(browser, "buyer", run)


# --- Supplier: import -> confirm -> ship -> grant a line ------------------------------------------


@pytest.fixture
def placed_purchase_orders(demo):
    """One placed purchase order to Hua Xin per window size, to confirm and ship."""
    from django.contrib.auth import get_user_model

    from credit.services import wallet_topup
    from marketplace.models import Listing
    from marketplace.orders.services import order_place

    huaxin, lumen = demo["Hua Xin Electronics"], demo["Lumen Labs"]
    wallet_topup(organization=lumen, amount=Decimal("100000.00"), currency="CNY", reference="journey")
    buyer_user = get_user_model().objects.get(username="buyer")
    listing = Listing.objects.filter(vendor=huaxin, is_active=True, stock__gte=500, moq=1, multiple=1).order_by("pk").first()
    return [order_place(buyer=lumen, placed_by=buyer_user, payment="deposit", lines=[(listing, 10)]).pk for _ in WIDTHS]


def test_supplier_imports_stock_confirms_and_ships_and_grants_credit(placed_purchase_orders, browser, tmp_path):
    grant_to = iter(["Pocket Robotics", "Makerbox Retail"])
    csv_file = tmp_path / "stock.csv"
    csv_file.write_text("manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks,category\n"
                        "Texas Instruments,LM358DR,4000,10,10,0,CNY,10:0.42;100:0.38,Op-amp\n"
                        "Espressif,ESP32-C3-MINI-1-N4,1200,1,1,0,CNY,1:8.90;100:8.10,Wireless SoC\n")

    def run(j: Journey) -> None:
        page = j.page
        j.log_in("supplier")
        j.switch_organization("Hua Xin Electronics")
        # A trader sells: its header offers no buying pages, and every page it offers works.
        assert j.tour() == ["Parts", "Kits", "RFQs", "Incoming POs", "My stock", "Order terms", "Inbox", "Money", "Receivables", "Payouts"]

        j.nav("My stock", "my-stock")
        page.get_by_role("link", name=re.compile("Upload a stock list|Upload your stock list|Upload")).first.click()
        j.check("import")
        page.set_input_files("input[name=file]", str(csv_file))
        page.get_by_role("button", name="Preview").click()
        j.check("import-preview")
        page.get_by_role("button", name="Apply these changes").click()
        j.check("import-applied")
        assert "Stock list applied" in page.inner_text("main")

        j.nav("Incoming POs", "incoming")
        page.goto("/purchase-orders/?status=placed")
        j.check("incoming-placed")
        card = page.locator("article[id^=po-]").first
        po_id = card.get_attribute("id")
        card.get_by_role("button", name="Confirm").click()
        j.check("confirmed")
        assert j.dialogs and "Confirm purchase order" in j.dialogs[-1]
        assert "confirmed" in page.inner_text("main")
        page.goto("/purchase-orders/?status=confirmed")
        j.check("incoming-confirmed")
        page.locator(f"article#{po_id}").get_by_role("button", name="Ship").click()
        j.check("shipped")
        assert "Mark purchase order" in j.dialogs[-1] and "marked as shipped" in page.inner_text("main")

        j.nav("Receivables", "receivables")
        buyer_name = next(grant_to)
        page.select_option("select[name=buyer]", label=buyer_name)
        page.fill("input[name=limit]", "0")
        page.select_option("select[name=currency]", "CNY")
        page.fill("input[name=terms_days]", "45")
        # The browser refuses a zero limit before the server does.
        page.get_by_role("button", name="Grant credit").click()
        assert page.locator("input[name=limit]").evaluate("e => !e.validity.valid")
        page.fill("input[name=limit]", "20000")
        page.get_by_role("button", name="Grant credit").click()
        j.check("line-granted")
        assert f"Granted {buyer_name}" in page.inner_text("main")

    _each_size(browser, "supplier", run)


# --- Operator: desk -> verify -> top-up -------------------------------------------------------------


@pytest.fixture
def second_unverified_supplier(demo):
    """The demo has one supplier waiting (Xin Feng Trading); a second one for the second width."""
    from django.contrib.auth import get_user_model

    from organizations.services import organization_create

    owner = get_user_model().objects.create_user(username="newstall2", password="x")
    org = organization_create(owner=owner, name="Wan Li Trading", kinds=["trader"], location="SEG Plaza 2F", verified=False)
    # A payout waiting per window size (the demo has one): each run settles one, through the confirm step.
    from credit.models import Payout
    from credit.services import wallet_topup
    from credit.services.payouts import payout_request

    waiting = Payout.objects.filter(status=Payout.Status.REQUESTED).select_related("organization").first()
    wallet_topup(organization=waiting.organization, amount=Decimal("900.00"), currency="CNY", reference="journey")
    payout_request(organization=waiting.organization, amount=Decimal("900.00"), currency="CNY")
    return org


CONSOLE = ["Desk", "Verification", "Money desk", "Payouts", "Disputes", "FX rates", "Events", "System", "Admin"]


def test_operator_works_from_the_console_menu_verifies_settles_a_payout_and_records_a_top_up(second_unverified_supplier, browser):
    to_verify = iter(["Xin Feng Trading", "Wan Li Trading"])

    def run(j: Journey) -> None:
        page = j.page
        j.log_in("operator")
        # An operator belongs to no organisation: one console menu, every page of it opens (the
        # Django admin is its own site, checked elsewhere).
        assert [link for link in j.header_links() if link != "Bank statements"] == CONSOLE
        for link in CONSOLE[:-1]:
            j.nav(link, f"console-{link.lower().replace(' ', '-')}")
        assert "Health" in page.inner_text("main") and "Database" in page.inner_text("main")

        j.nav("Verification", "verification")
        name = next(to_verify)
        page.locator("main tr", has_text=name).get_by_role("button", name="Verify").click()
        j.check("verified")
        assert j.dialogs and f"Verify {name}?" in j.dialogs[-1]
        assert page.locator("main tr", has_text=name).count() == 0

        j.nav("Payouts", "payouts")
        row = page.locator("main tbody tr").first
        amount = row.locator("td.num").inner_text().strip()
        row.locator("input[name=reference]").fill(f"ICBC-{j.size}")
        row.get_by_role("button", name=re.compile("Settle")).click()
        j.check("payout-confirm")  # the confirm step: nothing is settled yet
        assert "Settle payout" in page.locator("h1").inner_text() and amount in page.inner_text("main")
        page.get_by_role("button", name=re.compile("Yes, settle")).click()
        j.check("payout-settled")
        assert f"bank reference ICBC-{j.size}" in page.inner_text("main")

        j.nav("Desk", "desk")

        page.get_by_role("link", name="Record a bank top-up").click()
        j.check("topup")
        page.select_option("select[name=organization]", label=name)
        page.fill("input[name=amount]", "2500.00")
        page.select_option("select[name=currency]", "CNY")
        page.fill("input[name=reference]", f"BANK-{name[:3].upper()}")
        page.locator("input[type=submit], button[type=submit]").last.click()
        j.check("topped-up")
        assert f"Recorded 2500.00 CNY for {name}" in page.inner_text("body")

    _each_size(browser, "operator", run)


# --- Trial: form with defaults -> forecast -> start -> report -> reorder ------------------------------


def test_trial_from_the_form_defaults_to_a_reorder_quote(demo, browser):
    def run(j: Journey) -> None:
        page = j.page
        j.log_in("buyer")
        j.nav("Trials", "trials")
        j.goto("/trials/new/", "trial-form")
        page.fill("input[name=name]", f"Journey trial {j.size}")
        page.fill("input[name=arm0_label]", "at 99")
        page.fill("input[name=arm0_price]", "99")
        page.fill("input[name=arm0_units]", "60")
        page.fill("input[name=base_daily]", "6")  # a hit: demand well above the batch
        # Every other field keeps its default; the browser must accept them all (Dispersion k = 2).
        page.get_by_role("button", name="Save draft").click()
        j.check("draft")
        assert "Draft saved" in page.inner_text("main")

        page.get_by_role("button", name=re.compile("Forecast")).first.click()
        j.check("forecast")
        assert "What the demand model expects" in page.inner_text("main")

        page.get_by_role("button", name=re.compile("^Start")).first.click()
        page.wait_for_selector("text=Verdict:", timeout=60_000)
        j.check("report")
        if "Quote a reorder" not in page.inner_text("main"):
            pytest.fail(f"the trial did not earn a scale verdict: {page.inner_text('.verdict-box')}")
        page.get_by_role("button", name=re.compile("Quote a reorder")).click()
        j.check("reorder-quote")
        assert re.search(r"/quotes/\d+/", page.url) and "Reorder quote #" in page.inner_text("main")

    _each_size(browser, "trial", run)


# --- Viewer: reads everything, is offered no write ---------------------------------------------------


@pytest.fixture
def a_quote_of_lumen(demo):
    from django.contrib.auth import get_user_model

    from marketplace.models import Kit
    from marketplace.sourcing.quotes import quote_create

    from marketplace.boms.services import bom_upload
    from marketplace.models import Rfq
    from trials.models import Trial

    lumen = demo["Lumen Labs"]
    kit = Kit.objects.order_by("pk").first()
    quote = quote_create(organization=lumen, kit=kit, quantity=100, created_by=get_user_model().objects.get(username="buyer"))
    bom = bom_upload(owner=lumen, content=b"MPN,Qty,Designator\nSTM32G030F6P6,1,U1\nNOSUCHPART-X1,2,R1 R2\n",
                     filename="board.csv", name="Board rev A")
    rfq = Rfq.objects.filter(buyer=lumen, status="open").order_by("pk").first()
    draft = Trial.objects.filter(organization=lumen, status="draft").order_by("pk").first()
    return quote.pk, [("bom", f"/boms/{bom.pk}/"), ("rfq", f"/rfqs/{rfq.pk}/"), ("rfq-new", "/rfqs/new/"),
                      ("trial", f"/trials/{draft.pk}/"), ("trial-new", "/trials/new/")]


def test_a_viewer_reads_every_page_but_is_offered_no_write(a_quote_of_lumen, browser):
    def run(j: Journey) -> None:
        page = j.page
        j.log_in("buyer_viewer")
        assert j.tour() == ["Parts", "Kits", "BOMs", "Quotes", "Plans", "Orders", "RFQs", "Inbox", "Money", "Trials", "Funnel"]
        assert page.get_by_role("link", name="New trial").count() == 0
        j.goto("/boms/", "boms")
        assert page.locator("#bom-upload").count() == 0 and "can read BOMs but not upload them" in page.inner_text("main")
        quote, key_pages = a_quote_of_lumen
        j.goto(f"/quotes/{quote}/", "quote")
        assert page.get_by_role("button", name=re.compile("Place the order")).count() == 0
        assert "can read this page but not place orders" in page.inner_text("main")
        j.goto("/kits/", "kits")
        page.locator("main table a, main article a").first.click()
        j.check("kit")
        assert page.locator("#quote-form").count() == 0
        # The BOM, RFQ and trial pages: nothing that would change anything, and a note of who can.
        for label, path in key_pages:
            j.goto(path, label)
            assert page.locator("main form[method=post]").count() == 0, f"{label}: a viewer is offered a form"
            assert page.locator("main .readonly-note").count() >= 1, f"{label}: no note of who can change it"

    _each_size(browser, "viewer", run)


# --- Buyer: stock list -> a purchase plan of two kits -> order it in one step -----------------------


@pytest.fixture
def kits_to_plan(demo, tmp_path):
    from credit.services import wallet_topup
    from marketplace.models import Kit, SubKit
    from marketplace.sourcing.quotes import quote_create

    lumen = demo["Lumen Labs"]
    wallet_topup(organization=lumen, amount=Decimal("500000.00"), currency="CNY", reference="plan journey")
    edge = SubKit.objects.select_related("kit", "child").order_by("pk").first()  # a kit and a module inside it
    quote_create(organization=lumen, kit=edge.child, quantity=1)  # so the plan form lists the module
    part = edge.child.bom_lines.order_by("pk").first().part
    stock = tmp_path / "stock.csv"
    stock.write_text(f"MPN,Manufacturer,On hand,Location\n{part.mpn},{part.manufacturer},3,Shelf A\nNO-SUCH-MPN-1,,4,\n")
    return edge.kit, edge.child, stock


def test_buyer_lists_stock_plans_two_kits_together_and_orders_the_plan(kits_to_plan, browser):
    kit, module, stock = kits_to_plan

    def run(j: Journey) -> None:
        page = j.page
        j.log_in("buyer")
        j.nav("Plans", "plans")
        page.get_by_role("link", name="your stock").first.click()
        j.check("stock")
        page.set_input_files("#stock-import input[type=file]", str(stock))
        page.click("#stock-import button[type=submit]")
        j.check("stock-imported")
        assert "1 row skipped" in page.inner_text("main") and "Shelf A" in page.inner_text("#stock-rows")
        j.goto(f"/plans/?kit={kit.pk}&qty=10", "plan-form")
        page.fill(f"#plan-sources input[name=kit_{module.pk}]", "20")
        page.click("#plan-form button[type=submit]")
        j.check("plan")
        comparison = page.inner_text("#plan-comparison")
        assert "Each quoted alone" in comparison and "net of your stock" in comparison
        assert page.locator("#plan-needs tbody tr").count() > 0
        page.get_by_role("button", name="Review and order").click()
        j.check("plan-quote")
        page.locator("#order").get_by_role("button", name=re.compile("Place the order")).click()
        j.check("plan-ordered")
        assert j.dialogs and "Place the order" in j.dialogs[-1]

    _each_size(browser, "plan", run)
