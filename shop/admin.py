"""Admin building blocks shared by the apps."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import DataError
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.urls import reverse
from django.utils.html import format_html


class _LookupCheckingChangeList(ChangeList):
    def get_results(self, request):
        # The admin accepts a lookup on any field from the URL (?created_at__year=99999,
        # ?name__regex=(, ?email=%00) and checks its value only as far as the field converts
        # it; the rest fails when the query runs. Such a URL gets what a lookup Django
        # refuses gets: the list again, unfiltered (?e=1), not a 500.
        try:
            super().get_results(request)
        except (ValueError, LookupError, DataError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class LookupCheckingAdminMixin:
    """Bad input that Django's admin passes to a query unchecked gets an answer, not a 500:
    a URL lookup that the database or the driver refuses (a year out of range, a malformed
    regex, a NUL character, a range of one value) redirects to the unfiltered list; a posted
    action selection or autocomplete value that is not a key is refused."""

    def get_changelist(self, request, **kwargs):
        return _LookupCheckingChangeList

    def response_action(self, request, queryset):
        # Django filters pk__in=<the posted selection> unchecked: ?_selected_action=abc was a 500.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(_is_value_of(self.model._meta.pk, pk) for pk in selected):
            self.message_user(
                request, "The selection is not valid: select the rows again.", messages.WARNING
            )
            return None
        return super().response_action(request, queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            kwargs["widget"] = _CheckedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _is_value_of(field, value) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class _CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete select, which looks the posted value up unchecked when it shows
    the form again: category=abc was a 500, not the field's error. Such a value shows as no
    choice."""

    def optgroups(self, name, value, attr=None):
        target = self.field.target_field
        return super().optgroups(name, [v for v in value if _is_value_of(target, v)], attr)


class ReadOnlyAdminMixin:
    """A screen to look at, never to write through (ledgers, batches, reports)."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Related rows shown on a parent's page, read-only."""

    extra = 0
    can_delete = False
    show_change_link = False
    # Each row shows every column: no caption above it (admin.css hides the admin's str()).
    classes = ["shop-readonly"]


class RelatedLinksMixin:
    """Columns and fields that link to another admin page only for a viewer who may open it;
    for anyone else they are plain text (never a link to a 403).

    `related_links` maps a field name (a foreign key, or any `<name>_id` attribute) to
    (admin URL name, permission, text); the text is a format string of the related id
    (`"Order #{}"`) or None for the related object's own str() (select it with the rows).
    The columns are made per request, so list_display, fields and readonly_fields may name
    the field as usual.
    """

    related_links: dict[str, tuple[str, str, str | None]] = {}

    def _related_column(self, request, name: str):
        made = request.__dict__.setdefault("_shop_related_columns", {})
        key = (type(self).__name__, name)
        if key not in made:
            url_name, permission, text = self.related_links[name]
            allowed = request.user.has_perm(permission)

            def column(obj):
                pk = getattr(obj, f"{name}_id", None)
                if pk is None:
                    return "-"
                label = text.format(pk) if text else str(getattr(obj, name))
                if not allowed:
                    return label
                return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), label)

            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:  # a plain `<name>_id` column
                field = None
            column.__name__ = name
            column.short_description = getattr(field, "verbose_name", name)
            column.admin_order_field = name if field else f"{name}_id"
            made[key] = column
        return made[key]

    def _with_related_links(self, request, names):
        return [
            self._related_column(request, n)
            if isinstance(n, str) and n in self.related_links
            else n
            for n in names
        ]

    def get_list_display(self, request):
        return self._with_related_links(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._with_related_links(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._with_related_links(request, super().get_readonly_fields(request, obj))


class FieldConstraintErrorsForm(forms.ModelForm):
    """A model form that shows a check constraint's error beside the one field it is about
    (a negative price beside the price), not only above the form."""

    def _post_clean(self):
        super()._post_clean()
        if NON_FIELD_ERRORS not in self._errors:
            return
        by_message = {}
        for constraint in self._meta.model._meta.constraints:
            field = _only_field(constraint)
            if field and field in self.fields:
                by_message[str(constraint.get_violation_error_message())] = field
        kept = []
        for error in self._errors.pop(NON_FIELD_ERRORS).as_data():
            messages = [str(m) for m in error.messages]
            if len(messages) == 1 and messages[0] in by_message:
                self.add_error(by_message[messages[0]], error)
            else:
                kept.append(error)
        if kept:
            self.add_error(None, kept)


def _only_field(constraint) -> str | None:
    """The single field a CheckConstraint's condition reads (`price__gt=0` -> price)."""
    condition = getattr(constraint, "condition", None)
    if not isinstance(condition, Q) or len(condition.children) != 1:
        return None
    child = condition.children[0]
    if not isinstance(child, tuple):
        return None
    return child[0].split(LOOKUP_SEP)[0]
