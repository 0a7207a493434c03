from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task that a committed transaction asked for, kept until the broker has it.

    Written in the same transaction as the change that needs it, so the two commit or roll back
    together; `config.outbox.services` relays it to the broker after commit, and `manage.py outbox_relay`
    relays whatever that missed (broker down, process killed)."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # The Celery task id: the same on every relay attempt, so a result or a status poll finds it.
    task_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_unsent_idx")]

    def __str__(self) -> str:
        return f"{self.task_name}{self.args} ({'sent' if self.sent_at else 'pending'})"
