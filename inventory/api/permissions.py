from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions


class ReadAnyoneWriteModelPermission(DjangoModelPermissions):
    """Reading is public; writing needs a staff account with the model's add/change/delete
    permission (Inventory managers, superusers). Anonymous → 401, others → 403."""

    anonymous_reads = True  # shop.schema: GET needs no token (`{}` in its `security`)

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        if not super().has_permission(request, view):
            return False
        return request.user.is_staff
