"""Reads from PostgreSQL streaming replicas, writes to the primary (docs/deploy.md, "Read replicas").

With `DATABASE_REPLICA_URLS` set (settings: one `replica_N` alias per URL), a GET, HEAD or OPTIONS
request reads from one replica, chosen per request, through `ReplicaRouter`; everything else reads
and writes the primary:

- every write, and every read a write depends on (`select_for_update`, `get_or_create`, anything
  inside `transaction.atomic()`: Django asks the router for the write database, or the router
  sees the open transaction on the primary);
- requests that change something (POST, PUT, PATCH, DELETE), and for `REPLICA_PIN_SECONDS` (5)
  after one, every request of the same client: the same `Authorization` header, the same session
  cookie, or the pin cookie set on the response (a browser whose session key changed at login).
  A person who just saved something sees it on the next page, whatever the replica's lag
  ("read your own writes"); other people may see it a moment later;
- authentication and sessions (`auth`, `authtoken`, `sessions`): a token or a login made a moment
  ago on the primary must work at once on any web process;
- Celery tasks, management commands and the shell (no request: nothing chooses a replica);
- a replica that cannot be reached: the request reads from the primary, and that replica is
  skipped for `REPLICA_RETRY_SECONDS` (30) in this process.
"""

import contextvars
import hashlib
import logging
import random
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
PRIMARY_ONLY_APPS = frozenset({"auth", "authtoken", "sessions", "contenttypes"})
PIN_COOKIE = "kitstreet_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_reads_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("kitstreet_reads_from", default=None)
_down_until: dict[str, float] = {}  # replica alias -> monotonic time to try it again (this process)


def now() -> float:
    """The wall clock for pins (a function, so tests can move it instead of sleeping)."""
    return time.time()


def replicas() -> list[str]:
    return list(getattr(settings, "REPLICA_DATABASES", []))


def reads_from() -> str | None:
    """The replica this request reads from, or None (the primary)."""
    return _reads_from.get()


@contextmanager
def replica_reads(alias: str | None):
    """Reads inside go to `alias` (None: the primary), as the middleware arranges per request."""
    token = _reads_from.set(alias)
    try:
        yield
    finally:
        _reads_from.reset(token)


class ReplicaRouter:
    """Django database router: see the module's docstring."""

    def db_for_read(self, model, **hints):
        alias = _reads_from.get()
        if alias is None or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:  # a transaction reads what it (may have) written
            return PRIMARY
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return instance._state.db  # related rows come from where their object came from
        return alias

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the primary's rows: objects from either may be related

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db in replicas() else None


def _pin_keys(request) -> list[str]:
    """Who the client is, without authenticating: its credentials as sent, hashed."""
    keys = []
    auth = request.META.get("HTTP_AUTHORIZATION")
    if auth:
        keys.append("auth:" + hashlib.sha256(auth.encode()).hexdigest())
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        keys.append("session:" + hashlib.sha256(session.encode()).hexdigest())
    return [f"replica-pin:{key}" for key in keys]


def _pinned(request, keys) -> bool:
    try:
        if float(request.COOKIES.get(PIN_COOKIE, 0)) > now():
            return True
    except ValueError:
        pass
    if not keys:
        return False
    return any(until > now() for until in cache.get_many(keys).values())


def _pin(response, keys) -> None:
    seconds = settings.REPLICA_PIN_SECONDS
    until = now() + seconds
    if keys:
        cache.set_many({key: until for key in keys}, timeout=seconds + 1)
    response.set_cookie(PIN_COOKIE, f"{until:.3f}", max_age=seconds, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def _choose_replica() -> str | None:
    up = [alias for alias in replicas() if _down_until.get(alias, 0) <= time.monotonic()]
    random.shuffle(up)
    for alias in up:
        try:
            connections[alias].ensure_connection()
            return alias
        except DatabaseError as error:
            _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
            logger.warning("replica %s unreachable, reading from the primary for %s s: %s", alias,
                           settings.REPLICA_RETRY_SECONDS, error)
    return None


class ReplicaReadsMiddleware:
    """Chooses, per request, where its reads go (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (settings.REPLICA_READS and replicas()):
            return self.get_response(request)
        keys = _pin_keys(request)
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            _pin(response, keys)
            return response
        alias = None if _pinned(request, keys) else _choose_replica()
        with replica_reads(alias):
            return self.get_response(request)
