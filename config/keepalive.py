"""`python -m config.keepalive CMD...`: run CMD, restart it when it dies, stop it when told to.

honcho (`make run`, `make serve`) stops every process when one exits. A Celery worker or beat that
exits on a broker outage would take the web server down with it; under this wrapper it is
restarted with backoff (1 s doubling to 30 s) and the rest of the app keeps serving. SIGINT/SIGTERM
are passed to the child and end the wrapper."""

import signal
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m config.keepalive CMD [ARGS...]", file=sys.stderr)
        return 2
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping:
            return code
        if time.monotonic() - started > 60:
            backoff = 1.0  # it ran for a while: a fresh failure, not a crash loop
        print(f"keepalive: {argv[0]} exited with {code}; restarting in {backoff:.0f} s", file=sys.stderr, flush=True)
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.2)
        if stopping:
            return code
        backoff = min(backoff * 2, 30.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
