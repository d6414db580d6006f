"""Who is asking, and what that lets them see. The same rules serve features, tiles, archives and the cache.

A ``Principal`` comes from an API key (``api/auth.py``) or from the notebook helpers. Row filters and column
masks are applied in SQL by the query builders; this module only decides.

Three roles are scoped to a piece of the district: a grid worker to one grid, a community operator to one
community, a street operator to one street. All three see the same thing: the rows of the grids they cover
(``grids``, resolved from the admin areas when the key is looked up), masked. One rule, one set of grid codes,
so that features, tiles, downloads, archives, figures and pages narrow the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from spatial.errors import Forbidden

ROLES = (
    "admin",
    "planner",
    "department_editor",
    "grid_worker",
    "community_operator",
    "street_operator",
    "public",
)
# role -> the admin level of the area its key is scoped to
SCOPED_ROLES = {"grid_worker": "grid", "community_operator": "community", "street_operator": "street"}


@dataclass(frozen=True)
class Principal:
    role: str
    department: str | None = None
    grid_code: str | None = None
    actor: str = "anonymous"
    area_code: str | None = None  # the community or street of an operator
    grids: tuple[str, ...] = ()  # every grid a scoped role covers

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "grid_worker" and not self.grids and self.grid_code:
            object.__setattr__(self, "grids", (self.grid_code,))

    @property
    def sees_personal_data(self) -> bool:
        """Unmasked names, phones and ID numbers: admins, and the police (the authority on identity)."""
        return self.role == "admin" or (self.role == "department_editor" and self.department == "police")

    @property
    def scoped(self) -> bool:
        """Whether this principal sees only the rows of its own grids."""
        return self.role in SCOPED_ROLES

    @property
    def scope_code(self) -> str | None:
        """The code of the area a scoped principal covers (its grid, community or street)."""
        return self.grid_code if self.role == "grid_worker" else self.area_code

    @property
    def visibility_class(self) -> str:
        """Everything that changes what this principal may see; part of every cache key."""
        if self.scoped:
            return f"{SCOPED_ROLES[self.role]}:{self.scope_code}"
        if self.role == "department_editor":
            return f"department:{self.department}"
        return self.role

    @property
    def is_internal(self) -> bool:
        return self.role != "public"

    def covers_grid(self, grid_code: str | None) -> bool:
        """Whether a row of `grid_code` is inside this principal's scope (always, when unscoped)."""
        return not self.scoped or grid_code in self.grids


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
