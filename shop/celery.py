"""The Celery application, as Celery's "First steps with Django" guide sets it up.

Settings come from Django's settings, the `CELERY_` names (shop/settings.py); tasks are found
in each installed app's `tasks.py`. `celery -A shop worker` runs jobs, `celery -A shop beat`
queues the periodic ones (CELERY_BEAT_SCHEDULE).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
