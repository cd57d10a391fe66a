"""Embedded mode (the default of `make run`): everything in one process."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
