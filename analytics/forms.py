from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone

MAX_DAYS = 3660


def default_range():
    """The last 30 days, today included (in settings.TIME_ZONE)."""
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    return today - timedelta(days=29), today


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, **kwargs):
        date_from, date_to = default_range()
        super().__init__(data, initial={"date_from": date_from, "date_to": date_to}, **kwargs)

    def clean(self):
        cleaned = super().clean()
        default_from, default_to = default_range()
        date_from = cleaned.get("date_from") or default_from
        date_to = cleaned.get("date_to") or default_to
        if date_from > date_to:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError("Choose a range of at most ten years.")
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        return cleaned

    def date_range(self):
        """The valid chosen range, or the default one."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        return default_range()
