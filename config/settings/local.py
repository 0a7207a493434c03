"""Local development: `make run`. SQLite and a filesystem broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import DATA_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
DATA_DIR.mkdir(parents=True, exist_ok=True)
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}  # noqa: F405
WEBHOOK_ALLOW_HTTP = True  # a receiver on a developer's machine speaks plain http
