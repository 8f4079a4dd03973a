"""Import jobs in the admin: the list, and each job's page with a live progress bar (the page
reloads itself every two seconds until the job ends) and its result or errors as a table."""

from django.contrib import admin

from inventory.models import ImportJob
from shop.admin import LookupCheckingAdminMixin, ReadOnlyAdminMixin, RelatedLinksMixin

REFRESH_SECONDS = 2


@admin.register(ImportJob)
class ImportJobAdmin(
    LookupCheckingAdminMixin, RelatedLinksMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    related_links = {"user": ("admin:accounts_user_change", "accounts.view_user", None)}
    list_display = ("id", "created_at", "user", "file_name", "status", "progress", "finished_at")
    list_filter = ("status", "source", "created_at")
    list_select_related = ("user",)
    search_fields = ("file_name", "user__email")
    date_hierarchy = "created_at"
    change_form_template = "admin/inventory/importjob/change_form.html"

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        if job.rows_total is None:
            return "—"
        return f"{job.rows_done:,} / {job.rows_total:,} rows ({job.percent} %)"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra_context = {
            "job": job,
            "refresh_seconds": REFRESH_SECONDS,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)
