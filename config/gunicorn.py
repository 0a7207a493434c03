"""gunicorn settings for `make serve` (every value can be overridden from the environment).
docs/deploy.md explains the sizing."""

import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")

# Load and warm the application once in the master, then fork: workers start warm in milliseconds
# instead of each importing Django and the apps (36 s on a busy two-core machine) and then paying
# the first request's imports (10 s), which with the 30 s timeout killed new workers in a loop.
preload_app = True

# Threaded workers: WEB_CONCURRENCY processes x WEB_THREADS threads. A thread waiting on PostgreSQL
# or a slow upload does not hold the whole process, the process keeps answering the master's
# heartbeat while a request is slow (a sync worker is killed at `timeout` mid-request), and HTTP
# keep-alive works (sync workers close every connection).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "4"))

# A worker silent this long is killed and replaced (forked warm). Requests themselves are bounded
# by the app (uploads at 10 MB, workbooks refused before parsing, large stock lists in the
# background), not by this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Keep idle keep-alive connections longer than the load balancer does (AWS ALB and most others
# default to 60 s), so the balancer closes first and never sends on a connection we just closed (502).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
max_requests = 5000  # recycle workers now and then (memory growth in long-running processes)
max_requests_jitter = 500
backlog = 2048
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
errorlog = "-"
# The load balancer terminates TLS and sets X-Forwarded-Proto; Django trusts it
# (SECURE_PROXY_SSL_HEADER). gunicorn passes it through from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# gunicorn >= 25's control socket is one path per user: two servers on a machine would share it.
control_socket_disable = True
# The longest request line gunicorn takes (its maximum); longer is a 414, documented in the schema.
limit_request_line = 8190


def when_ready(server):
    """In the master, after the preloaded app is imported and before any worker is forked."""
    import gc

    from config.warmup import warm_up

    warm_up()
    # Everything imported so far lives as long as the process: freeze it (the permanent
    # generation) so the collector never scans it again. Without this a full collection in a worker
    # walked ~170,000 objects, ≈ 100 ms, about every fourth 300-line quote (their ~5,000 offers push
    # it), which was the quote's p95 (docs/benchmarks.md). It also keeps the forked workers' shared
    # pages unwritten by the collector (copy-on-write), as the Python docs advise before fork().
    gc.collect()
    gc.freeze()

