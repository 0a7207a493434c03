"""Login lockout: too many wrong passwords for one username and it is locked for a while.

The 6th wrong password for a username within 15 minutes (LOGIN_FAILURE_LIMIT = 5 failures,
LOGIN_FAILURE_WINDOW_SECONDS) is refused with 429 and `Retry-After`, on `POST /api/v1/auth/token/`
and the login form alike; once the oldest of those failures is older than the window the right
password works again (and clears the count). Keyed by username, not by IP address: a brute force
spread over many addresses is still stopped. Counters live in the shared cache (Redis in
production), so every web process and machine sees the same count.

When the cache is unreachable (Redis down or partitioned) the lockout does not fail the login: it
logs a warning and counts in the database instead (`organizations.LoginFailure`), which every web
process shares too, and stops trying the cache for CACHE_RETRY_SECONDS so each login pays the
failed connection at most once in that time. Counts made during an outage are not carried back into
Redis: after an outage a username may get up to LOGIN_FAILURE_LIMIT more tries, never fewer.

Failures are counted from Django's `user_login_failed` signal, so every login path that calls
`authenticate()` counts; `LockoutBackend` refuses a locked username in every path (the admin's
login too), and the two views check first so that they can answer 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

logger = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 30.0
_cache_down_until = 0.0


def _cache_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        return errors
    return (*errors, RedisError)


CACHE_ERRORS = _cache_errors()


def _digest(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _key(username: str) -> str:
    return "login-failures:" + _digest(username)


def _cache_or_database(cache_call, database_call):
    """Run `cache_call`; when the cache is unreachable, log it and run `database_call` instead."""
    global _cache_down_until
    if time.monotonic() >= _cache_down_until:
        try:
            return cache_call()
        except CACHE_ERRORS as exc:
            _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
            logger.warning("Login lockout: the cache is unreachable (%s: %s); counting failures in the database "
                           "for the next %.0f s", type(exc).__name__, exc, CACHE_RETRY_SECONDS)
    return database_call()


def _failures():
    from organizations.models import LoginFailure  # config wires the apps; the model lives with the accounts

    return LoginFailure.objects


def _recent(username: str, now: float) -> list[float]:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    stored = _cache_or_database(
        lambda: cache.get(_key(username), []),
        lambda: list(_failures().filter(key=_digest(username), at__gt=now - window).values_list("at", flat=True)),
    )
    return [t for t in stored if t > now - window]


def login_locked_for(username: str | None) -> int:
    """Seconds until `username` may try again; 0 when it is not locked."""
    if not username:
        return 0
    now = time.time()
    recent = _recent(username, now)
    if len(recent) < settings.LOGIN_FAILURE_LIMIT:
        return 0
    # Unlocked when enough failures have aged out of the window to go below the limit.
    unlock_at = sorted(recent)[-settings.LOGIN_FAILURE_LIMIT] + settings.LOGIN_FAILURE_WINDOW_SECONDS
    return max(1, math.ceil(unlock_at - now))


def login_failure_record(username: str | None) -> None:
    if not username:
        return
    now = time.time()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS

    def in_cache():
        recent = [t for t in cache.get(_key(username), []) if t > now - window]
        recent.append(now)
        cache.set(_key(username), recent[-50:], timeout=window)

    def in_database():
        digest = _digest(username)
        _failures().filter(key=digest, at__lte=now - window).delete()
        _failures().create(key=digest, at=now)

    _cache_or_database(in_cache, in_database)


def login_failures_clear(username: str | None) -> None:
    if username:
        _cache_or_database(lambda: cache.delete(_key(username)),
                           lambda: _failures().filter(key=_digest(username)).delete())


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (f"Too many failed login attempts for this username. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.")


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    login_failure_record(credentials.get("username"))


@receiver(user_logged_in)
def _on_logged_in(sender, request, user, **kwargs):
    login_failures_clear(user.get_username())


class LockoutBackend(ModelBackend):
    """ModelBackend that refuses a locked username before checking its password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and login_locked_for(username):
            raise PermissionDenied("locked out")  # authenticate() stops here: no other backend
        return super().authenticate(request, username=username, password=password, **kwargs)
