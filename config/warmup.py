"""Warm the application once in gunicorn's master, before it forks the workers (`preload_app`).

Importing Django and the apps takes seconds, and the first request then imports the URLconf with
every view, DRF, drf-spectacular, numpy and friends, and compiles the templates: 36 s and 10 s on a
busy two-core machine. Done per worker, a fresh worker's first request outlived the 30 s timeout,
the master killed it and started another cold one, in a loop, and the login page never answered.
Done once in the master, every worker (the first ones, and each one `max_requests` recycles) is
forked warm and answers at once.

The master must not keep a database connection or any socket its children would share: everything
touched here is closed before the fork.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

WARM_TEMPLATES = ("base.html", "registration/login.html", "home.html")


def warm_up() -> float:
    """Import everything a first request would, without touching the database. Returns seconds."""
    started = time.perf_counter()
    from django.db import connections
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports every urls.py and, through them, every view and API module
    resolver._populate()  # the reverse() tables
    for name in WARM_TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:  # pragma: no cover - a renamed template only loses its warm-up
            pass
    import numpy  # noqa: F401 - trials' forecasts; imported lazily by some views
    import openpyxl  # noqa: F401 - uploads and exports

    connections.close_all()  # never share a connection with forked workers
    seconds = time.perf_counter() - started
    logger.info("Warmed the application in %.1f s before forking workers", seconds)
    return seconds
