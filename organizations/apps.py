from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = "Organisations and people"

    def ready(self):
        # Services enqueue tasks by name (the outbox); registering them here lets any process,
        # not only a worker, run them eagerly or look them up.
        from organizations import tasks  # noqa: F401
