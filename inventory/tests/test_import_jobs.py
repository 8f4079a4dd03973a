"""Import jobs (inventory.jobs) through the API, the admin and the command, run inline (no
broker configured). The same jobs on a real worker process: tests/scale/test_import_worker.py."""

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory.jobs import import_job_create, import_job_run
from inventory.models import ImportBatch, ImportJob, Product
from inventory.tests.spreadsheet_helpers import HEADER, csv_bytes, db_state

IMPORT = "/api/v1/products/import/"
GOOD = [
    HEADER,
    ["A-1", "Alpha", "Tools", "10.00", "4.00", "5"],
    ["B-2", "Beta", "Toys", "3", "1", "0"],
]
BAD = [HEADER, ["A-1", "Alpha", "Tools", "10.00", "4.00", "5"], ["B-2", "", "Toys", "-3", "1", "0"]]


@pytest.fixture(autouse=True)
def _small_sync_limit(settings, tmp_path):
    settings.IMPORT_SYNC_MAX_BYTES = 10  # every test file is a job
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "imports"
    return list(root.iterdir()) if root.exists() else []


def _upload(rows, name="products.csv"):
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_large_import_answers_202_with_the_job(client_for, inventory_manager, settings):
    client = client_for(inventory_manager)
    response = client.post(IMPORT, {"file": _upload(GOOD)}, format="multipart")

    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert response.json() == {
        "id": job.pk,
        "status": "succeeded",  # no broker: run inline before the answer
        "url": f"http://testserver/api/v1/products/imports/{job.pk}/",
    }
    body = client.get(response.json()["url"]).json()
    assert body["status"] == "succeeded"
    assert (body["rows_done"], body["rows_total"]) == (2, 2)
    assert (body["created"], body["updated"], body["categories_created"]) == (2, 0, 2)
    assert body["errors"] == []
    assert body["finished_at"] is not None
    assert set(Product.objects.values_list("sku", flat=True)) == {"A-1", "B-2"}
    assert job.source == ImportBatch.Source.API and job.user == inventory_manager
    assert _stored_files(settings) == []  # the file is removed when the job ends


@pytest.mark.django_db
def test_api_small_import_stays_synchronous(client_for, inventory_manager, settings):
    settings.IMPORT_SYNC_MAX_BYTES = 1024 * 1024

    response = client_for(inventory_manager).post(
        IMPORT, {"file": _upload(GOOD)}, format="multipart"
    )

    assert response.status_code == 200
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_failing_job_writes_nothing_and_lists_every_error(
    client_for, inventory_manager, settings, django_capture_on_commit_callbacks
):
    client = client_for(inventory_manager)
    before = db_state()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(IMPORT, {"file": _upload(BAD)}, format="multipart")

    assert response.status_code == 202
    body = client.get(response.json()["url"]).json()
    assert body["status"] == "failed"
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(3, "name"), (3, "price")}
    assert (body["created"], body["updated"]) == (0, 0)
    assert db_state() == before
    assert _stored_files(settings) == []


@pytest.mark.django_db
def test_import_job_permissions(client_for, customer, inventory_manager, analyst):
    job = ImportJob.objects.create(source=ImportBatch.Source.API, file_name="x.csv")
    url = f"/api/v1/products/imports/{job.pk}/"

    assert client_for(None).get(url).status_code == 401
    assert client_for(customer).get(url).status_code == 403
    assert client_for(analyst).get(url).status_code == 403
    assert client_for(inventory_manager).get(url).status_code == 200
    assert (
        client_for(inventory_manager).get(f"/api/v1/products/imports/{job.pk + 1}/").status_code
        == 404
    )


@pytest.mark.django_db
def test_queued_job_waits_for_a_worker(inventory_manager, settings):
    """Without the commit (no worker yet), the job is queued and its file kept."""
    job = import_job_create(
        file=_upload(GOOD), file_name="p.csv", user=inventory_manager, source="api"
    )

    assert job.status == ImportJob.Status.QUEUED
    assert default_storage.exists(job.file.name)
    assert len(_stored_files(settings)) == 1


@pytest.mark.django_db
def test_rerun_of_a_finished_job_does_nothing(inventory_manager, settings):
    job = import_job_create(
        file=_upload(GOOD), file_name="p.csv", user=inventory_manager, source="api"
    )
    assert import_job_run(job_id=job.pk).status == ImportJob.Status.SUCCEEDED

    assert import_job_run(job_id=job.pk) is None  # a duplicate delivery
    assert ImportBatch.objects.count() == 1
    job.refresh_from_db()
    assert job.attempts == 1


@pytest.mark.django_db
def test_job_started_too_many_times_is_failed_not_run(inventory_manager, settings):
    settings.IMPORT_JOB_MAX_ATTEMPTS = 2
    job = import_job_create(
        file=_upload(GOOD), file_name="p.csv", user=inventory_manager, source="api"
    )
    ImportJob.objects.filter(pk=job.pk).update(attempts=2, status=ImportJob.Status.RUNNING)

    assert import_job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "stopped each time" in job.errors[0]["message"]
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_admin_large_upload_becomes_a_job_with_its_page(
    client, inventory_manager, django_capture_on_commit_callbacks
):
    client.force_login(inventory_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:inventory_product_import"), {"import_file": _upload(BAD)}
        )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:inventory_importjob_change", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "Nothing was imported: 2 problems." in page
    # the same table of problems as the import page's (admin/inventory/import_errors.html)
    assert '<table class="import-errors">' in page
    assert "Problems in products.csv (rows as the spreadsheet numbers them" in page
    assert '<td class="value"><em>(empty)</em></td>' in page  # row 3's missing name
    assert '<td class="value">-3</td>' in page
    assert '<progress max="100" value="0"' in page
    assert 'http-equiv="refresh"' not in page  # finished: no more reloading
    assert job.source == ImportBatch.Source.ADMIN


@pytest.mark.django_db
def test_admin_job_page_refreshes_while_running(client, inventory_manager):
    job = ImportJob.objects.create(
        source="admin", file_name="big.csv", status="running", rows_done=250, rows_total=1000
    )
    client.force_login(inventory_manager)

    page = client.get(reverse("admin:inventory_importjob_change", args=[job.pk])).content.decode()

    assert '<progress max="100" value="25"' in page
    assert "250 of 1000 rows" in page
    assert 'http-equiv="refresh" content="2"' in page


@pytest.mark.django_db
def test_admin_job_pages_need_the_inventory_role(client, analyst):
    job = ImportJob.objects.create(source="admin", file_name="big.csv")
    client.force_login(analyst)

    assert client.get(reverse("admin:inventory_importjob_changelist")).status_code == 403
    assert client.get(reverse("admin:inventory_importjob_change", args=[job.pk])).status_code == 403


@pytest.mark.django_db
def test_command_background_prints_the_job_id(tmp_path, capsys, django_capture_on_commit_callbacks):
    path = tmp_path / "products.csv"
    path.write_bytes(csv_bytes(GOOD))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_products", str(path), "--background")

    job = ImportJob.objects.get()
    assert capsys.readouterr().out.strip() == str(job.pk)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.source == ImportBatch.Source.COMMAND
    assert Product.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_command_background_job_that_failed_inline_exits_1_with_its_errors(tmp_path, capsys):
    # No broker: the job runs inline as it is queued (on commit, here at once).
    path = tmp_path / "products.csv"
    path.write_bytes(csv_bytes([HEADER, ["A-1", "Alpha", "Tools", "12.345", "4.00", "5"]]))

    with pytest.raises(CommandError) as raised:
        call_command("import_products", str(path), "--background")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert raised.value.returncode == 1
    assert str(raised.value).startswith(f"Import job #{job.pk} failed with 1 error(s)")
    out, err = capsys.readouterr()
    assert out.strip() == str(job.pk)
    assert "row 2: price 12.345: at most 2 decimal places." in err
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_admin_job_list(client, inventory_manager):
    ImportJob.objects.create(
        source="admin", file_name="big.csv", status="running", rows_done=1500, rows_total=6000
    )
    client.force_login(inventory_manager)

    page = client.get(reverse("admin:inventory_importjob_changelist")).content.decode()

    assert "big.csv" in page
    assert "1,500 / 6,000 rows (25 %)" in page
