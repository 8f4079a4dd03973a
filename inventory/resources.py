"""django-import-export's view of the spreadsheet columns, delegating to inventory.spreadsheets.

The resource keeps django-import-export's admin screens (preview, confirm, export) but not its
row-by-row import: `import_data` hands the file to `product_import`, so the admin gives the same
verdict as the API and the command, and is as fast.
"""

from io import BytesIO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources
from import_export.formats import base_formats
from import_export.results import InvalidRow, Result, RowResult
from import_export.widgets import ForeignKeyWidget

from inventory.models import Category, ImportBatch, Product
from inventory.spreadsheets import COLUMNS, SpreadsheetInvalid, product_import


class SpreadsheetUpload:
    """The uploaded file's bytes, standing in for the tablib Dataset django-import-export builds
    (its parsers differ from ours: tablib reads an XLSX file's active sheet, not its first)."""

    def __init__(self, data: bytes):
        self.data = data

    def __bool__(self):
        return True


class SpreadsheetCSV(base_formats.CSV):
    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return SpreadsheetUpload(in_stream)


class SpreadsheetXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream, **kwargs):
        return SpreadsheetUpload(in_stream)


def errors_to_result(errors: list[dict]) -> Result:
    """SpreadsheetInvalid errors as django-import-export's invalid rows (one per sheet row)."""
    result = Result()
    result.diff_headers = []
    by_row: dict = {}
    for error in errors:
        messages = by_row.setdefault(error["row"], {})
        messages.setdefault(error["field"] or NON_FIELD_ERRORS, []).append(error["message"])
    for row, messages in by_row.items():
        result.invalid_rows.append(
            InvalidRow(number=row or "file", validation_error=ValidationError(messages), values=())
        )
        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
    return result


class ProductResource(resources.ModelResource):
    category = fields.Field(
        attribute="category",
        column_name="category",
        widget=ForeignKeyWidget(Category, field="name"),
    )

    class Meta:
        model = Product
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("sku",)

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        """Import through `product_import`: all or nothing, errors by row and column."""
        source = {"file_name": kwargs.get("file_name") or ""}
        if isinstance(dataset, SpreadsheetUpload):
            source["file"] = BytesIO(dataset.data)
        else:  # a tablib Dataset built by other code
            source["rows"] = [dataset.headers or [], *dataset]
        try:
            outcome = product_import(
                **source,
                dry_run=dry_run,
                user=kwargs.get("user"),
                source=ImportBatch.Source.ADMIN,
            )
        except SpreadsheetInvalid as exc:
            if raise_errors:
                raise
            return errors_to_result(exc.errors)
        result = Result()
        result.diff_headers = ["row", *COLUMNS]
        result.total_rows = outcome.rows
        result.totals[RowResult.IMPORT_TYPE_NEW] = outcome.created
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = outcome.updated
        result.totals[RowResult.IMPORT_TYPE_SKIP] = outcome.unchanged
        for number, kind, values in outcome.preview:
            row = RowResult()
            row.import_type = kind
            row.diff = [number, *values]
            result.append_row_result(row)
        result.import_result = outcome
        return result
