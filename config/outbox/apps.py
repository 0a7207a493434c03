from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "config.outbox"
    label = "outbox"  # tables and migrations keep the app label
    verbose_name = "Task outbox"
