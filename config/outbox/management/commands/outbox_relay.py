"""`manage.py outbox_relay`: publish the outbox's pending tasks to the broker, forever.

Run one next to the workers (`make run` and `make serve` do); more are safe (rows are locked
with SKIP LOCKED). `--once` relays what is pending and exits (tests, cron)."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.db.utils import DatabaseError

from config.outbox.services import outbox_purge_sent, outbox_relay_pending

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish pending outbox messages to the Celery broker (forever, or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="relay what is pending and exit")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls when idle")

    def handle(self, *args, once=False, interval=0.5, **options):
        if once:
            sent, pending = outbox_relay_pending()
            self.stdout.write(f"sent {sent}, pending {pending}")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        backoff, last_purge = interval, 0.0
        self.stdout.write("outbox relay: running")
        while not stopping:
            try:
                close_old_connections()
                sent, pending = outbox_relay_pending()
                if sent:
                    logger.info("outbox relay: sent %s, pending %s", sent, pending)
                # Broker down: back off up to 5 s; otherwise poll at the interval.
                backoff = min(backoff * 2, 5.0) if pending else interval
                if time.monotonic() - last_purge > 3600:
                    outbox_purge_sent()
                    last_purge = time.monotonic()
            except DatabaseError as exc:  # database restarting: wait and reconnect
                logger.warning("outbox relay: database unavailable: %s", exc)
                backoff = 5.0
            time.sleep(backoff)
