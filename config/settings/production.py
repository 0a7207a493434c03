"""Production (`make serve`): PostgreSQL and Redis, from the environment. Passes `check --deploy`
with nothing silenced. Refuses to start without DATABASE_URL, CELERY_BROKER_URL and REDIS_URL: a
production process must never fall back to the SQLite file or the filesystem broker, which only
work on one machine."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of 50+ characters in production.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured("Set DATABASE_URL (postgres://...) in production.")
if not os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://", "sentinel://", "amqp://")):
    raise ImproperlyConfigured("Set CELERY_BROKER_URL (redis://... or sentinel://...) in production; "
                               "the filesystem broker only works on one machine.")
if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured("Set REDIS_URL (redis://...) in production: task results and the shared cache.")

# TLS ends at the load balancer, which must set (overwrite) X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# On by default; SECURE_SSL_REDIRECT=false / SECURE_COOKIES=false let the profile be smoke-tested
# over plain http on loopback (`check --deploy` then warns, as it should).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Invitation emails go out over SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "587")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
        },
    }
}

# Demand-backed credit: simulated demand earns no platform money in production unless asked for.
KITSTREET_DEMAND_CREDIT = {**KITSTREET_DEMAND_CREDIT,  # noqa: F405
                           "simulated_trials": os.environ.get("KITSTREET_DEMAND_CREDIT_SIMULATED", "0") == "1"}
