"""Celery tasks of the accounts app: thin, they take ids (the work is in ``services``)."""

from __future__ import annotations

from celery import shared_task

from venousapp.accounts import services


@shared_task(name="accounts.password_reset_mail", acks_late=True, time_limit=60, soft_time_limit=45)
def password_reset_mail(request_id: int) -> int:
    return services.password_reset_mail_send(request_id=request_id)
