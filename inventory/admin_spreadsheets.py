"""Spreadsheet import and export in the admin, and the import history.

Import is two steps on the one pipeline (inventory.spreadsheets): upload → a preview (what would
be created and updated, or a table of every problem: row, column, value found, what is wrong)
→ confirm. The confirm step names the upload by a signed token (inventory.spreadsheets.uploads),
never by a path or a format the browser sends. `ProductSpreadsheetAdminMixin` goes first in
ProductAdmin's bases.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from inventory.jobs import import_job_create
from inventory.models import ImportBatch
from inventory.spreadsheets import (
    CONTENT_TYPES,
    FORMATS,
    SpreadsheetInvalid,
    check_upload_size,
    export_file_name,
    product_export,
    product_import,
)
from inventory.spreadsheets.uploads import (
    UploadExpired,
    upload_delete,
    upload_open,
    upload_store,
)
from inventory.spreadsheets.write import PREVIEW_ROWS
from shop.admin import LookupCheckingAdminMixin, ReadOnlyAdminMixin, RelatedLinksMixin


class UploadForm(forms.Form):
    # An empty file gets the same verdict as in the API and the command: "the file is empty".
    import_file = forms.FileField(label="File to import (.csv or .xlsx)", allow_empty_file=True)

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_upload_size(upload.size)
        except SpreadsheetInvalid as exc:
            raise forms.ValidationError(exc.errors[0]["message"]) from exc
        return upload


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label="Format", choices=[(f, f".{f}") for f in FORMATS], initial="xlsx"
    )


class ProductSpreadsheetAdminMixin:
    """Import (upload, preview, confirm) and export pages for the product admin."""

    change_list_template = "admin/inventory/product/change_list.html"

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("inventory.import_product")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("inventory.export_product")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="%s_%s_import" % info,  # noqa: UP031
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="%s_%s_export" % info,  # noqa: UP031
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "has_import_permission": self.has_import_permission(request),
            "has_export_permission": self.has_export_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def _page(self, request, template: str, title: str, **context):
        return TemplateResponse(
            request,
            f"admin/inventory/product/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                **context,
            },
        )

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and ("token" in request.POST or "confirm" in request.POST):
            return self._confirm(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not form.is_valid():
            return self._page(request, "import.html", "Import products", form=form)
        upload = form.cleaned_data["import_file"]
        file_name = upload.name or ""
        if upload.size > settings.IMPORT_SYNC_MAX_BYTES:
            # Too large to preview within a request: imported as a job, followed on its page.
            job = import_job_create(
                file=upload, file_name=file_name, user=request.user, source=ImportBatch.Source.ADMIN
            )
            return HttpResponseRedirect(reverse("admin:inventory_importjob_change", args=[job.pk]))
        try:
            preview = product_import(file=upload, file_name=file_name, dry_run=True)
        except SpreadsheetInvalid as exc:
            return self._errors(request, file_name, exc.errors, form=UploadForm())
        token = upload_store(upload, file_name=file_name, user=request.user)
        return self._page(
            request,
            "import.html",
            "Import products: preview",
            file_name=file_name,
            result=preview,
            confirm_form=ConfirmForm(initial={"token": token}),
            preview_limit=PREVIEW_ROWS,
        )

    def _errors(self, request, file_name, errors, **context):
        return self._page(
            request,
            "import.html",
            "Import products: nothing was imported",
            file_name=file_name,
            errors=errors,
            **context,
        )

    def _confirm(self, request):
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            return self._expired(request)
        token = form.cleaned_data["token"]
        try:
            stored, file_name = upload_open(token, user=request.user)
        except UploadExpired:
            return self._expired(request)
        try:
            with stored:
                result = product_import(
                    file=stored,
                    file_name=file_name,
                    user=request.user,
                    source=ImportBatch.Source.ADMIN,
                )
        except SpreadsheetInvalid as exc:
            # The catalog changed between the preview and the confirmation.
            upload_delete(token, user=request.user)
            return self._errors(request, file_name, exc.errors, form=UploadForm())
        upload_delete(token, user=request.user)
        messages.success(request, f"Import #{result.batch.pk} finished: {result.summary()}")
        return HttpResponseRedirect(reverse("admin:inventory_product_changelist"))

    def _expired(self, request):
        return self._page(
            request,
            "import.html",
            "Import products",
            form=UploadForm(),
            upload_error=UploadExpired.message,
        )

    def export_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        form = ExportForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            return self._page(request, "export.html", "Export products", form=form)
        file_format = form.cleaned_data["file_format"]
        response = HttpResponse(
            product_export(file_format=file_format), content_type=CONTENT_TYPES[file_format]
        )
        response["Content-Disposition"] = f'attachment; filename="{export_file_name(file_format)}"'
        return response


@admin.register(ImportBatch)
class ImportBatchAdmin(
    LookupCheckingAdminMixin, RelatedLinksMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    related_links = {"user": ("admin:accounts_user_change", "accounts.view_user", None)}
    list_display = (
        "id",
        "created_at",
        "user",
        "source",
        "file_name",
        "rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "categories_created",
    )
    list_filter = ("source", "created_at")
    list_select_related = ("user",)
    search_fields = ("file_name", "user__email")
    date_hierarchy = "created_at"
