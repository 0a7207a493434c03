"""Celery entry points of the organisations app: emails are sent by a worker, never inside the
request. Each task loads its row and calls a service; a mail-server error is retried with backoff,
and a redelivered task sends nothing twice (invitations remember `emailed_at`)."""

from smtplib import SMTPException

from celery import shared_task

MAIL_ERRORS = (SMTPException, OSError)


@shared_task(name="organizations.tasks.invitation_email_send_task", autoretry_for=MAIL_ERRORS,
             retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def invitation_email_send_task(invitation_id: int, accept_url: str = "") -> bool:
    from organizations.models import Invitation
    from organizations.services import invitation_email_deliver

    invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    return bool(invitation) and invitation_email_deliver(invitation=invitation, accept_url=accept_url)


@shared_task(name="organizations.tasks.email_verification_send_task", autoretry_for=MAIL_ERRORS,
             retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def email_verification_send_task(user_id: int, email: str, confirm_url: str) -> bool:
    from django.contrib.auth import get_user_model

    from organizations.services import email_verification_deliver

    user = get_user_model().objects.filter(pk=user_id).first()
    return bool(user) and email_verification_deliver(user=user, email=email, confirm_url=confirm_url)
