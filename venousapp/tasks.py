from celery import shared_task


@shared_task(name="venousapp.ping", time_limit=10, soft_time_limit=5)
def ping() -> str:
    """Round trip used by /healthz to prove a worker consumes the broker."""
    return "pong"
