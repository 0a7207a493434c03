"""Platform-level tasks that belong to no domain app."""

import os
import socket

from celery import shared_task


@shared_task(name="kitstreet.worker_ping")
def worker_ping(message: str = "pong") -> dict:
    """A trivial round trip: proves a worker process picked the task up and ran it."""
    return {"message": message, "hostname": socket.gethostname(), "pid": os.getpid()}
