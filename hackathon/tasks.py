"""Celery tasks of the event domain: thin wrappers around its services."""

from celery import shared_task

from hackathon import announcements, services


@shared_task(ignore_result=True)
def expire_offers_task() -> None:
    services.expire_offers()


@shared_task(ignore_result=True)
def email_announcement_task(announcement_id: int) -> None:
    announcements.email_announcement(announcement_id)
