"""The screens: the operations centre's wall (``/dashboard``) and the community workspace (``/communities``).
Pages are built here from their configuration; every script and style comes from ``static/`` (served by the
app at ``/static/screens``: ECharts, the screens' runtime) and the viewer's Leaflet assets, never a CDN."""

from layers.screens.page import (
    LAYOUTS,
    MODES,
    STATIC_DIR,
    DashboardConfig,
    dashboard_html,
    mode_from_saved_map,
    workspace_html,
)

__all__ = [
    "LAYOUTS",
    "MODES",
    "STATIC_DIR",
    "DashboardConfig",
    "dashboard_html",
    "mode_from_saved_map",
    "workspace_html",
]
