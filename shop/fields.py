"""DRF fields shared by the apps' serializers."""

from rest_framework import serializers

from shop.validators import has_control_characters, no_control_characters


class SingleLineCharField(serializers.CharField):
    """A CharField that refuses control characters in the text as sent.

    DRF trims surrounding whitespace before validators run, so a model field's
    `no_control_characters` alone would let a trailing newline or tab through; this field
    checks the untrimmed value first (400 naming the field, code `control_characters`).
    """

    def to_internal_value(self, data):
        if isinstance(data, str) and has_control_characters(data):
            raise serializers.ValidationError(
                no_control_characters.message, code=no_control_characters.code
            )
        return super().to_internal_value(data)
