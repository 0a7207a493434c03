"""Login lockout: too many wrong passwords for one username and it is locked for a while.

The 6th wrong password for a username within 15 minutes (LOGIN_FAILURE_LIMIT = 5 failures,
LOGIN_FAILURE_WINDOW_SECONDS) is refused with 429 and `Retry-After`, on `POST /api/v1/auth/token/`
and the login form alike; once the oldest of those failures is older than the window the right
password works again (and clears the count). Keyed by username, not by IP address: a brute force
spread over many addresses is still stopped. Counters live in the shared cache (Redis in
production), so every web process and machine sees the same count.

Failures are counted from Django's `user_login_failed` signal, so every login path that calls
`authenticate()` counts; `LockoutBackend` refuses a locked username in every path (the admin's
login too), and the two views check first so that they can answer 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver


def _key(username: str) -> str:
    return "login-failures:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _recent(username: str, now: float) -> list[float]:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    return [t for t in cache.get(_key(username), []) if t > now - window]


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
    recent = _recent(username, now)
    recent.append(now)
    cache.set(_key(username), recent[-50:], timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_failures_clear(username: str | None) -> None:
    if username:
        cache.delete(_key(username))


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
