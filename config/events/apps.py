from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "config.events"
    label = "events"
    verbose_name = "Market events"

    def ready(self):
        # Services enqueue the publish task by name (the outbox); registering it here lets any
        # process, not only a worker, run it eagerly or look it up.
        from config.events import tasks  # noqa: F401
