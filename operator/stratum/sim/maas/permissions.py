"""Who may do what, as MAAS decides it without RBAC (maasserver/auth/local.py
MAASAuthorizationBackend.has_perm; maasserver/authorization.py; api/support.py check_permission).

An administrator's key may do everything. Another user's key may view and edit machines that are
unowned or its own (`_can_view` / `_can_edit`), but "admin" node permissions (storage edits, tags
on devices, commissioning) and global entities (tags, zones, pools) are refused. The refusal is
Django's PermissionDenied: 403 text/plain; `get_node_or_404` raises it without a message.
"""

from __future__ import annotations

from .errors import Forbidden
from .model import ApiKey, Machine

GLOBAL_ENTITIES_MESSAGE = (
    "User does not have permission to perform this operation. "
    "The user should have permission 'can_edit_global_entities'"
)


def can_access(user: ApiKey | None, machine: Machine) -> bool:
    """NodePermission.view and .edit, which are one rule without RBAC: an administrator, or the
    machine is unowned or owned by this user."""
    if user is None or user.admin:
        return True
    return machine.owner is None or machine.owner == user.username


def require_access(user: ApiKey | None, machine: Machine) -> None:
    if not can_access(user, machine):
        raise Forbidden()


def require_admin(user: ApiKey | None) -> None:
    """NodePermission.admin (get_node_or_404 / get_block_device_or_404 raise a bare PermissionDenied)."""
    if user is not None and not user.admin:
        raise Forbidden()


def require_global_edit(user: ApiKey | None) -> None:
    """@check_permission(CAN_EDIT_GLOBAL_ENTITIES) on tag and zone writes (api/tags.py, api/zones.py)."""
    if user is not None and not user.admin:
        raise Forbidden(GLOBAL_ENTITIES_MESSAGE)


def require_ready_machine_edit(user: ApiKey | None, machine_is_ready: bool, message: str) -> None:
    """raise_error_for_invalid_state_on_allocated_operations: on a Ready machine only those who may
    edit machines in its pool (administrators) may format or mount (api/blockdevices.py,
    api/partitions.py)."""
    if machine_is_ready and user is not None and not user.admin:
        raise Forbidden(message)
