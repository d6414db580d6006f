"""Errors of the case workflow; ``api/errors.py`` maps them to HTTP codes."""

from __future__ import annotations

from spatial.errors import Forbidden, InvalidInput, OnemapError


class TransitionNotAllowed(OnemapError):
    """The case's state does not allow the action (409); names the actions it does allow."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.extra = {"allowed_actions": allowed}


class ActionForbidden(Forbidden):
    """The caller's role may not take this action on this case (403)."""


class AttachmentTooLarge(OnemapError):
    """An attachment over the configured size (413)."""


class AttachmentNotImage(InvalidInput):
    """An attachment that is not a JPEG, PNG or WebP image (415)."""
