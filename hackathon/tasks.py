"""Celery tasks of the event domain: thin wrappers around its services."""

from celery import shared_task

from hackathon import services


@shared_task(ignore_result=True)
def expire_offers_task() -> None:
    services.expire_offers()
