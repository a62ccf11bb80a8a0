"""Staff and admin roles, the audit log of their official acts, and the staff commands.

``roles`` holds the rules (who may do what) and the storage of roles and audit rows;
``telegram`` is the /peran command on the Telegram channel. See docs/staff.md.
"""

from bot.staff.roles import (
    ADMIN,
    STAFF,
    Grant,
    RoleCommand,
    RoleSet,
    StaffDesk,
    parse_role_command,
)

__all__ = [
    "ADMIN",
    "STAFF",
    "Grant",
    "RoleCommand",
    "RoleSet",
    "StaffDesk",
    "parse_role_command",
]
