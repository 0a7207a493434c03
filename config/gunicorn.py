"""gunicorn settings for `make serve` (every value can be overridden from the environment)."""

import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers: each request is a few short queries; 2 x CPU + 1 keeps the CPU busy while some
# wait on PostgreSQL. WEB_CONCURRENCY sets it explicitly (the CI smoke test runs 2).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5  # behind a load balancer that reuses connections
max_requests = 5000  # recycle workers now and then (memory growth in long-running processes)
max_requests_jitter = 500
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
errorlog = "-"
# The load balancer terminates TLS and sets X-Forwarded-Proto; Django trusts it
# (SECURE_PROXY_SSL_HEADER). gunicorn passes it through from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# gunicorn >= 25's control socket is one path per user: two servers on a machine would share it.
control_socket_disable = True
# The longest request line gunicorn takes (its maximum); longer is a 414, documented in the schema.
limit_request_line = 8190
