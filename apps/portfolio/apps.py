from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class PortfolioConfig(AppConfig):
    name = "apps.portfolio"
    label = "portfolio"

    def ready(self) -> None:
        # Resting paper orders are matched where market events flow (the feed process).
        if getattr(settings, "PAPER_MATCHER_ENABLED", False):
            from apps.portfolio import matcher

            matcher.enable()
