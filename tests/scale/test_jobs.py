"""Celery jobs: inline without a broker, on a real worker process with one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from analytics.models import DailySalesTotal
from analytics.tests.factories import executed_order
from orders import tasks as order_tasks
from orders.models import IdempotencyKey
from orders.tests.factories import ProductFactory
from shop.celery import app
from tests.scale.services import wait_for

DASHBOARD = "admin:analytics_salesdashboard_changelist"
REBUILD = "admin:analytics_salesdashboard_rebuild"


def _keys(user):
    old = IdempotencyKey.objects.create(user=user, key="old", request_fingerprint="x")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    fresh = IdempotencyKey.objects.create(user=user, key="fresh", request_fingerprint="y")
    return old, fresh


def test_beat_schedule_names_registered_tasks():
    from django.conf import settings

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert schedule["reconcile-payments"]["schedule"] == 60.0
    assert schedule["purge-idempotency-keys"]["schedule"] == 24 * 60 * 60.0


@pytest.mark.django_db
def test_without_a_broker_a_job_runs_inline():
    old, fresh = _keys(UserFactory(password=None))

    assert app.conf.task_always_eager is True
    order_tasks.purge_idempotency_keys.delay()

    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db
def test_reconcile_payments_task_runs_the_reconciler():
    # Nothing is due: the reconciler answers with no settled attempts.
    assert order_tasks.reconcile_payments.delay().get() == {}


@pytest.mark.django_db
def test_dashboard_rebuild_button_repairs_the_summary(client, analyst):
    order = executed_order([(ProductFactory(), 2, "10.00", "4.00")])
    DailySalesTotal.objects.all().delete()  # a summary gone wrong
    client.force_login(analyst)

    response = client.post(reverse(REBUILD))

    assert response.status_code == 302
    assert response.url == reverse(DASHBOARD)
    day = DailySalesTotal.objects.get(date=timezone.localdate(order.executed_at))
    assert (day.orders, day.units) == (1, 2)
    assert "rebuild has started" in client.get(reverse(DASHBOARD)).content.decode()


@pytest.mark.django_db
def test_dashboard_rebuild_needs_post_and_the_analysts_role(client, analyst, inventory_manager):
    client.force_login(analyst)
    assert client.get(reverse(REBUILD)).status_code == 405
    client.force_login(inventory_manager)
    assert client.post(reverse(REBUILD)).status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_job_runs_on_a_real_worker_process(celery_worker):
    old, fresh = _keys(UserFactory(password=None))

    order_tasks.purge_idempotency_keys.delay()

    wait_for(lambda: not IdempotencyKey.objects.filter(pk=old.pk).exists(), what="the purge")
    assert IdempotencyKey.objects.filter(pk=fresh.pk).exists()
    assert "purge_idempotency_keys" in celery_worker.log_path.read_text()
