"""Who is asking, and what that lets them see. The same rules serve features, tiles, archives and the cache.

A ``Principal`` comes from an API key (``api/auth.py``) or from the notebook helpers. Row filters and column
masks are applied in SQL by the query builders; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from spatial.errors import Forbidden

ROLES = ("admin", "planner", "department_editor", "grid_worker", "public")


@dataclass(frozen=True)
class Principal:
    role: str
    department: str | None = None
    grid_code: str | None = None
    actor: str = "anonymous"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def sees_personal_data(self) -> bool:
        """Unmasked names, phones and ID numbers: admins, and the police (the authority on identity)."""
        return self.role == "admin" or (self.role == "department_editor" and self.department == "police")

    @property
    def visibility_class(self) -> str:
        """Everything that changes what this principal may see; part of every cache key."""
        if self.role == "grid_worker":
            return f"grid:{self.grid_code}"
        if self.role == "department_editor":
            return f"department:{self.department}"
        return self.role

    @property
    def is_internal(self) -> bool:
        return self.role != "public"

    def covers_grid(self, grid_code: str | None) -> bool:
        """Whether rows of this grid are within the principal's scope (grid workers: their own grid only)."""
        return self.role != "grid_worker" or grid_code == self.grid_code


def scope_grid(who: Principal, asked: str | None) -> str | None:
    """The grid a request covers: grid workers get their own grid only, whatever they ask for."""
    if who.role == "grid_worker":
        if asked and asked != who.grid_code:
            raise Forbidden(f"your key covers grid {who.grid_code} only")
        return who.grid_code
    return asked


def require_owner_or_admin(who: Principal, owner_department: str, what: str) -> None:
    """Restyling, granting and deleting a layer are for its owner department's editors and administrators."""
    if who.role == "admin" or (who.role == "department_editor" and who.department == owner_department):
        return
    raise Forbidden(f"only the owner department ({owner_department}) or an administrator may {what}")


PUBLIC = Principal("public")
ADMIN = Principal("admin", actor="system")
