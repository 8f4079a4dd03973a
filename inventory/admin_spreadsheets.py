"""Spreadsheet import (preview, then confirm) and export in the admin, and the import history.

`ProductSpreadsheetAdminMixin` is self-contained: put it first in ProductAdmin's bases.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm, ImportForm

from inventory.models import ImportBatch
from inventory.resources import ProductResource, SpreadsheetCSV, SpreadsheetXLSX
from inventory.spreadsheets import export_file_name, product_export
from shop.admin import ReadOnlyAdminMixin, RelatedLinksMixin


class SpreadsheetImportForm(ImportForm):
    # An empty file gets the same verdict as in the API and the command: "the file is empty".
    import_file = forms.FileField(label="File to import", allow_empty_file=True)

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_FILE_SIZE:
            limit = settings.IMPORT_MAX_FILE_SIZE / (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than the limit of {limit:g} MB.")
        return upload


class ProductSpreadsheetAdminMixin(ImportExportMixin):
    """Import with a preview of what will be created, updated and left unchanged, then a
    confirm step; export as CSV or XLSX. Both go through inventory.spreadsheets."""

    resource_classes = [ProductResource]
    import_form_class = SpreadsheetImportForm
    export_form_class = ExportForm
    import_formats = [SpreadsheetCSV, SpreadsheetXLSX]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    skip_admin_log = True  # the ImportBatch and its stock movements are the record
    import_error_display = ("message",)
    import_template_name = "admin/inventory/product_import.html"

    def write_to_tmp_storage(self, import_file, input_format):
        # django-import-export concatenates the chunks one by one (quadratic on a 20 MB file).
        storage = self.get_tmp_storage_class()(
            encoding=None,
            read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs(),
        )
        storage.save(b"".join(import_file.chunks()))
        return storage

    def get_export_data(self, file_format, request, queryset, **kwargs):
        if not self.has_export_permission(request):
            raise PermissionDenied
        kind = "xlsx" if isinstance(file_format, base_formats.XLSX) else "csv"
        return product_export(file_format=kind, queryset=queryset)

    def get_export_filename(self, request, queryset, file_format):
        return export_file_name(file_format.get_extension())

    def process_result(self, result, request):
        if result.has_validation_errors():
            # The catalog changed between the preview and the confirmation: nothing was written.
            for invalid in result.invalid_rows[:20]:
                for field, errors in invalid.error_dict.items():
                    where = f"Row {invalid.number}" + (f", {field}" if field != "__all__" else "")
                    messages.error(request, f"{where}: {' '.join(errors)}")
            messages.error(request, "Nothing was imported: correct the file and upload it again.")
            app_label, model_name = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{app_label}_{model_name}_import"))
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        outcome = result.import_result
        messages.success(
            request,
            f"Import #{outcome.batch.pk} finished: {outcome.created} created, "
            f"{outcome.updated} updated, {outcome.unchanged} unchanged, "
            f"{outcome.categories_created} categories created.",
        )


@admin.register(ImportBatch)
class ImportBatchAdmin(RelatedLinksMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
