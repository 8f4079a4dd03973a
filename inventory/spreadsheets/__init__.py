"""Spreadsheet import and export of products: one pipeline for the admin, the API, the command
(and import jobs).

    read      a CSV or XLSX file as rows of raw cells (limits checked before the XLSX reader)
    validate  rows into checked product rows, every problem as {"row", "field", "message"}
    staging   the checked rows in a temporary table, for the checks that need the whole file
    write     `product_import`: the rows against the catalog, then into it, all or nothing,
              a chunk at a time
    export    `product_export`: the catalog as CSV or XLSX, formulas escaped

Column contract (API.md): sku, name, category, price, cost, quantity.
"""

from inventory.spreadsheets.common import (
    COLUMNS,
    CONTENT_TYPES,
    FORMATS,
    Progress,
    SpreadsheetInvalid,
    check_upload_size,
    escape_formula,
    too_large_message,
    unescape_formula,
)
from inventory.spreadsheets.export import export_file_name, product_export
from inventory.spreadsheets.write import ImportResult, product_import

__all__ = [
    "COLUMNS",
    "CONTENT_TYPES",
    "FORMATS",
    "ImportResult",
    "Progress",
    "SpreadsheetInvalid",
    "check_upload_size",
    "escape_formula",
    "export_file_name",
    "product_export",
    "product_import",
    "too_large_message",
    "unescape_formula",
]
