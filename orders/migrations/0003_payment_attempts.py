"""Payments become payment attempts: a state machine recorded before the gateway is called."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q


def forwards(apps, schema_editor):
    Payment = apps.get_model("orders", "Payment")
    # Before attempts, an "approved" payment was always one of an executed order.
    Payment.objects.filter(state="approved").update(state="captured")
    for payment in Payment.objects.filter(idempotency_key__isnull=True).only("pk"):
        Payment.objects.filter(pk=payment.pk).update(idempotency_key=f"legacy-{payment.pk}")
    Payment.objects.update(in_flight_until=F("created_at"))


def backwards(apps, schema_editor):
    Payment = apps.get_model("orders", "Payment")
    Payment.objects.filter(state="captured").update(state="approved")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_role_permissions"),
    ]

    operations = [
        migrations.RenameField("payment", "status", "state"),
        migrations.AddField(
            model_name="payment",
            name="idempotency_key",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="in_flight_until",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="request_key",
            field=models.CharField(blank=True, db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="payment",
            name="last_error",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="payment",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="payment",
            name="state",
            field=models.CharField(
                choices=[
                    ("started", "Started"),
                    ("approved", "Approved"),
                    ("captured", "Captured"),
                    ("declined", "Declined"),
                    ("voided", "Voided"),
                    ("failed", "Failed"),
                    ("refund_pending", "Refund pending"),
                    ("refunded", "Refunded"),
                ],
                default="started",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="idempotency_key",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="payment",
            name="in_flight_until",
            field=models.DateTimeField(),
        ),
        migrations.AlterModelOptions(
            name="payment",
            options={"ordering": ["created_at", "id"], "verbose_name": "payment attempt"},
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=Q(state__in=["started", "approved", "refund_pending"]),
                fields=["in_flight_until"],
                name="payment_unfinished_idx",
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("updated", "Updated"),
                    ("executed", "Executed"),
                    ("cancelled", "Cancelled"),
                    ("refunded", "Refunded"),
                    ("payment_declined", "Payment declined"),
                    ("payment", "Payment attempt"),
                ],
                max_length=20,
            ),
        ),
    ]
