from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "trials"

    def ready(self):
        # Services enqueue tasks by name (the outbox); registering them here lets any process,
        # not only a worker, run them eagerly or look them up.
        from trials import tasks  # noqa: F401
