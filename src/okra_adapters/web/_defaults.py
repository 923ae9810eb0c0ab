"""Where the web adapter keeps its files, and how long its links and sessions last.

A module of its own, light to import: every ``okra`` command loads the web plugin
(for its commands and its access policy), and most never open these files.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from okra_core import default_data_dir

__all__ = [
    "INVITATION_LIFETIME",
    "SESSION_LIFETIME",
    "data_file",
    "default_tokens_path",
    "default_users_path",
]

SESSION_LIFETIME = timedelta(hours=12)
"""How long a session lasts without a request; each request renews it."""

INVITATION_LIFETIME = timedelta(days=3)
"""How long an invitation link works by default."""


def data_file(variable: str, name: str) -> Path:
    """The file ``$variable`` names, else ``name`` in okra's data folder."""
    configured = os.environ.get(variable, "").strip()
    if configured:
        return Path(configured).expanduser()
    return default_data_dir() / name


def default_tokens_path() -> Path:
    """``$OKRA_WEB_TOKENS``, else ``web-tokens.sqlite`` in okra's data folder."""
    return data_file("OKRA_WEB_TOKENS", "web-tokens.sqlite")


def default_users_path() -> Path:
    """``$OKRA_WEB_USERS``, else ``web-users.sqlite`` in okra's data folder."""
    return data_file("OKRA_WEB_USERS", "web-users.sqlite")
