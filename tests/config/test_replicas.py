"""Reads from streaming replicas (config/replicas.py): GETs read from a replica, writes and the
reads a write depends on go to the primary, and a client that just wrote reads from the primary for
a few seconds (read your own writes).

The first group checks the router's and the middleware's decisions and runs everywhere. The second
needs a real PostgreSQL streaming replica: `.ci/run` starts one and runs this file with
DATABASE_REPLICA_URLS set (skipped otherwise)."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from config import replicas
from config.replicas import PIN_COOKIE, ReplicaReadsMiddleware, ReplicaRouter, reads_from, replica_reads
from marketplace.models import Listing, Part

router = ReplicaRouter()


@pytest.fixture
def one_replica(settings, monkeypatch):
    """A replica alias the decisions can name (no server behind it: nothing here queries it)."""
    settings.REPLICA_DATABASES = ["replica_0"]
    settings.REPLICA_READS = True
    monkeypatch.setattr(replicas, "_choose_replica", lambda: "replica_0")


@pytest.fixture
def clock(monkeypatch):
    """The pins' clock, moved by the test instead of waiting."""
    current = [1_000_000.0]
    monkeypatch.setattr(replicas, "now", lambda: current[0])
    return current


def through_middleware(request) -> tuple[str | None, HttpResponse]:
    seen = []

    def view(request):
        seen.append(reads_from())
        return HttpResponse("ok")

    response = ReplicaReadsMiddleware(view)(request)
    return seen[0], response


def test_without_a_request_everything_reads_from_the_primary(one_replica):
    assert router.db_for_read(Part) == "default"
    assert router.db_for_write(Part) == "default"


def test_in_a_request_reads_go_to_its_replica_but_writes_auth_and_transactions_do_not(one_replica, transactional_db):
    with replica_reads("replica_0"):
        assert router.db_for_read(Part) == router.db_for_read(Listing) == "replica_0"
        assert router.db_for_write(Part) == "default"
        assert router.db_for_read(Token) == "default"  # a token made a moment ago must work at once
        with transaction.atomic():
            assert router.db_for_read(Part) == "default"  # a transaction reads what it writes
        part = Part(mpn="X")
        part._state.db = "default"
        assert router.db_for_read(Listing, instance=part) == "default"  # related rows from where their object came
    assert router.allow_migrate("replica_0", "marketplace") is False
    assert router.allow_migrate("default", "marketplace") is None


def test_a_get_reads_from_a_replica_and_a_write_pins_the_client_to_the_primary_for_a_while(one_replica, clock, settings):
    factory = RequestFactory()
    token = {"HTTP_AUTHORIZATION": "Token abc"}
    assert through_middleware(factory.get("/api/v1/parts/search/", **token))[0] == "replica_0"

    seen, response = through_middleware(factory.post("/api/v1/listings/", **token))
    assert seen is None  # a write request reads from the primary throughout
    assert response.cookies[PIN_COOKIE]["max-age"] == settings.REPLICA_PIN_SECONDS

    assert through_middleware(factory.get("/api/v1/parts/search/", **token))[0] is None  # its own write: primary
    other = {"HTTP_AUTHORIZATION": "Token someone-else"}
    assert through_middleware(factory.get("/api/v1/parts/search/", **other))[0] == "replica_0"  # others: replica

    clock[0] += settings.REPLICA_PIN_SECONDS + 0.1
    assert through_middleware(factory.get("/api/v1/parts/search/", **token))[0] == "replica_0"  # the pin ran out


def test_a_browser_is_pinned_by_its_cookie_even_when_its_session_changed(one_replica, clock, settings):
    factory = RequestFactory()
    _, response = through_middleware(factory.post("/login/"))  # a login: a new session cookie follows
    request = factory.get("/parts/")
    request.COOKIES[PIN_COOKIE] = response.cookies[PIN_COOKIE].value
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "a-new-session"
    assert through_middleware(request)[0] is None
    clock[0] += settings.REPLICA_PIN_SECONDS + 0.1
    assert through_middleware(request)[0] == "replica_0"
    request.COOKIES[PIN_COOKIE] = "not a number"
    assert through_middleware(request)[0] == "replica_0"


def test_replica_reads_off_or_no_replica_means_the_primary(settings, monkeypatch):
    monkeypatch.setattr(replicas, "_choose_replica", lambda: "replica_0")
    settings.REPLICA_DATABASES, settings.REPLICA_READS = ["replica_0"], False
    assert through_middleware(RequestFactory().get("/"))[0] is None
    settings.REPLICA_DATABASES, settings.REPLICA_READS = [], True
    assert through_middleware(RequestFactory().get("/"))[0] is None


def test_an_unreachable_replica_is_skipped_and_the_primary_answers(settings, monkeypatch):
    settings.DATABASES  # noqa: B018 (the real settings; the alias below does not exist in them)

    class Down:
        def ensure_connection(self):
            from django.db import OperationalError

            raise OperationalError("connection refused")

    monkeypatch.setattr(replicas, "connections", {"replica_9": Down()})
    monkeypatch.setattr(replicas, "_down_until", {})
    settings.REPLICA_DATABASES, settings.REPLICA_READS = ["replica_9"], True
    assert through_middleware(RequestFactory().get("/"))[0] is None
    assert replicas._down_until["replica_9"] > time.monotonic()  # not tried again on every request


# --- against a real streaming replica (CI) -----------------------------------------------------

WITH_REPLICA = ["default", *(["replica_0"] if "replica_0" in django_settings.DATABASES else [])]


def _wait_for_replay(timeout=30):
    """Until the replica has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")  # with asynchronous commit, not yet written too
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with connections["replica_0"].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


@pytest.fixture
def streaming_replica(settings):
    if "replica_0" not in settings.DATABASES or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs a PostgreSQL streaming replica in DATABASE_REPLICA_URLS (.ci/run starts one)")
    with connections["replica_0"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0], "replica_0 is not a standby"
    settings.REPLICA_READS = True
    replicas._down_until.clear()


def _queries_on(alias, fn):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections[alias]) as captured:
        result = fn()
    return result, len(captured)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=WITH_REPLICA)
def test_search_reads_from_the_replica_and_a_supplier_sees_its_own_new_listing_at_once(streaming_replica, trader, buyer):
    from tests.marketplace.factories import ListingFactory

    ListingFactory(part__mpn="RP2040", part__category="MCU", breaks=[(1, "0.70")])
    _wait_for_replay()
    (response, on_replica) = _queries_on("replica_0", lambda: buyer.client.get("/api/v1/parts/search/", {"q": "RP2040"}))
    assert response.status_code == 200 and response.json()["count"] == 1
    assert on_replica > 0

    created = trader.client.post("/api/v1/listings/", {
        "manufacturer": "Raspberry Pi", "mpn": "RP2350A", "category": "MCU", "stock": 500, "moq": 1, "multiple": 1,
        "lead_time_days": 0, "currency": "CNY", "price_breaks": [{"min_qty": 1, "unit_price": "1.10"}],
    }, format="json")
    assert created.status_code == 201, created.json()
    # The supplier reads its write at once, from the primary, whatever the replica's lag.
    (mine, on_primary) = _queries_on("default", lambda: trader.client.get(f"/api/v1/listings/{created.json()['id']}/"))
    assert mine.status_code == 200 and on_primary > 0
    # Everyone else reads from the replica, which has it once it has replayed the write.
    _wait_for_replay()
    (theirs, on_replica) = _queries_on("replica_0", lambda: buyer.client.get("/api/v1/parts/search/", {"q": "RP2350A"}))
    assert theirs.json()["count"] == 1 and on_replica > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=WITH_REPLICA)
def test_the_replica_refuses_writes_so_none_is_routed_there(streaming_replica):
    from django.db import InternalError, ProgrammingError

    with pytest.raises((InternalError, ProgrammingError), match="read-only"):
        with connections["replica_0"].cursor() as cursor:
            cursor.execute("UPDATE marketplace_part SET mpn = mpn")
    with replica_reads("replica_0"):
        Part.objects.create(manufacturer="M", mpn="WRITE-1", category="c")  # routed to the primary
    assert Part.objects.using("default").filter(mpn="WRITE-1").exists()
