from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The top floor: pages composing several apps, and the commands that run the product."""

    name = "apps.web"
    label = "web"
