from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "config.events"
    label = "events"
    verbose_name = "Market events"
