from __future__ import annotations

from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    """No wiring here: the processes that match resting orders (feeds, embedded) enable the
    matcher in their composition roots (``run_feeds``, ``serve``)."""

    name = "apps.portfolio"
    label = "portfolio"
