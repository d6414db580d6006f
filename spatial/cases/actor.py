"""Who acts on a case, as the workflow needs to know it. The platform's principals (``layers.access``) have
this shape; spatial code names only the protocol, so it never depends on the layers above it."""

from __future__ import annotations

from typing import Protocol


class Actor(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def grid_code(self) -> str | None: ...
    @property
    def grids(self) -> tuple[str, ...]: ...  # every grid a scoped role covers
    @property
    def actor(self) -> str: ...
    @property
    def sees_personal_data(self) -> bool: ...
