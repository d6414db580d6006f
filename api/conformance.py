"""The conformance declaration, from what is mounted: each router module lists the conformance classes its
routes implement in a module-level ``CONFORMANCE``, and ``/conformance`` answers the union. A route group that
is not mounted is not declared, and a new group declares itself without an edit here."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType


def declared(modules: Iterable[ModuleType]) -> list[str]:
    """The classes the modules declare, each once, in mounting order (then each module's own order)."""
    return list(dict.fromkeys(uri for module in modules for uri in getattr(module, "CONFORMANCE", [])))
