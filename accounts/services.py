"""Account writes. Views, admin and commands call these; nothing else changes users."""

import secrets

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.roles import ROLE_GROUPS
from shop.validators import no_control_characters


def _check_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"email": ["A user with this email already exists."]})


def _check_full_name(full_name: str) -> None:
    try:
        no_control_characters(full_name)
    except ValidationError as exc:
        raise ValidationError({"full_name": exc.messages}) from exc


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a customer account. Raises ValidationError for a taken email or weak password."""
    email = User.objects.normalize_email(email.strip())
    _check_email_free(email)
    _check_full_name(full_name)
    user = User(email=email, full_name=full_name.strip())
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update_profile(*, user: User, email: str | None = None, full_name: str | None = None):
    """Change the fields a customer owns. Raises ValidationError for a taken email."""
    fields = []
    if email is not None:
        email = User.objects.normalize_email(email.strip())
        _check_email_free(email, exclude_pk=user.pk)
        user.email = email
        fields.append("email")
    if full_name is not None:
        _check_full_name(full_name)
        user.full_name = full_name.strip()
        fields.append("full_name")
    if fields:
        user.save(update_fields=fields)
    return user


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of `user` (log out everywhere)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    ids = list(outstanding.values_list("id", flat=True))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in ids], ignore_conflicts=True
    )
    return len(ids)


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Check the current password, validate and set the new one, revoke all refresh tokens.

    Access tokens die too: they carry a hash of the password (SIMPLE_JWT CHECK_REVOKE_TOKEN).
    """
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_revoke_refresh_tokens(user=user)


@transaction.atomic
def user_delete(*, user: User, password: str) -> None:
    """Delete a customer's account without erasing sales history.

    The row stays (orders point at it); the person's data goes: email and name are replaced,
    the password made unusable, the account deactivated, staff rights and tokens revoked.
    Pending orders are cancelled; executed orders stay, under the anonymised account, so the
    sales figures do not move.
    """
    if not user.check_password(password):
        raise ValidationError({"password": ["The password is not correct."]})
    from orders.services import orders_cancel_for_deleted_user

    orders_cancel_for_deleted_user(user=user)
    # Random, not derived from the id: nobody can take the address first and make the
    # deletion fail on the unique email (128 bits: a collision does not happen).
    user.email = f"deleted-{secrets.token_hex(16)}@deleted.invalid"
    user.full_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    user_revoke_refresh_tokens(user=user)


@transaction.atomic
def staff_create_or_update(*, email: str, role: str, password: str | None) -> tuple[User, bool]:
    """Make or update a staff account in one role (`inventory`, `orders`, `analytics`).

    The account is put in that role's group only (roles are exclusive), made staff and
    active; the password is set when given. Returns (user, created).
    """
    if role not in ROLE_GROUPS:
        raise ValidationError({"role": [f"Unknown role {role!r}: one of {sorted(ROLE_GROUPS)}."]})
    # The groups are the migrations' (API.md), but an administrator can rename or delete one.
    group = Group.objects.filter(name=ROLE_GROUPS[role]).first()
    if group is None:
        raise ValidationError(
            {
                "role": [
                    f"The group {ROLE_GROUPS[role]!r} of the role {role!r} does not exist (renamed "
                    "or deleted in the admin?): give it back that name, or add it with its "
                    "permissions."
                ]
            }
        )
    email = User.objects.normalize_email(email.strip())
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email)
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = True
    user.is_active = True
    user.full_clean(exclude=["password"], validate_constraints=False)
    user.save()
    user.groups.set([group])
    return user, created
