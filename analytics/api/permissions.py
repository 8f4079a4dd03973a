from rest_framework.permissions import BasePermission


class CanViewReports(BasePermission):
    """The Analysts role (analytics.view_reports) or a superuser."""

    message = "Viewing reports needs the Analysts role."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("analytics.view_reports"))
