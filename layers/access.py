"""Who is asking, and what that lets them see. The same rules serve features, tiles, archives and the cache.

A ``Principal`` comes from an API key (``api/auth.py``) or from the notebook helpers. Row filters and column
masks are applied in SQL by the query builders; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass

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


PUBLIC = Principal("public")
ADMIN = Principal("admin", actor="system")
