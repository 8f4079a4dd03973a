"""Queueing a background job: on a worker when a broker is configured, else inline."""

from django.conf import settings


def enqueue(task, *args):
    """Run `task` with `args` on a Celery worker, or right here when CELERY_TASK_ALWAYS_EAGER
    (no CELERY_BROKER_URL: the embedded default). Decided from Django's settings at each call,
    so a test that points the settings at a real broker and back leaves nothing behind in the
    Celery app's own configuration."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return task.apply(args=args, throw=True)
    return task.delay(*args)
