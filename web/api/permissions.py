"""Who may call which endpoint: DRF permission classes over the rules in ``hotline.access``."""

from __future__ import annotations

from rest_framework import permissions

from hotline.access import is_center_staff
from hotline.models import Role


class IsCenterStaff(permissions.BasePermission):
    """The 12345 center only: call records, callbacks and revisits carry citizens' full numbers."""

    def has_permission(self, request, view) -> bool:
        return is_center_staff(request.user)


class IsCenterOrUnitHandler(permissions.BasePermission):
    """The center, or a handler who belongs to a unit (the view narrows them to their subtree).

    The ticket-side viewsets use it: a handler of no unit has no subtree to be narrowed to
    (docs/authorization.md)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if is_center_staff(user):
            return True
        return bool(user and user.is_authenticated and user.role == Role.UNIT_HANDLER and user.unit_id is not None)
