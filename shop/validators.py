"""Validators shared by every app (models, API serializers, the spreadsheet import)."""

from django.core.validators import RegexValidator

# API.md: single-line text fields refuse U+0000–U+001F (tab and newlines included) and U+007F.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"

no_control_characters = RegexValidator(
    CONTROL_CHARACTERS,
    inverse_match=True,
    message="Control characters (U+0000–U+001F, U+007F) are not allowed.",
    code="control_characters",
)
"""Refuses a value with a control character: `no_control_characters(value)` raises Django's
ValidationError (code `control_characters`). On a model field (`validators=[...]`) it runs in
`full_clean()` and in every ModelSerializer built from the field; pass it to a plain DRF field
as `validators=[no_control_characters]` (DRF turns the error into a 400 naming the field)."""


def has_control_characters(value: str) -> bool:
    """True when `value` holds a character `no_control_characters` refuses."""
    return no_control_characters.regex.search(str(value)) is not None
