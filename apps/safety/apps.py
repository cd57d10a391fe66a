from __future__ import annotations

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "apps.safety"
    label = "safety"
    verbose_name = "Safety and audit"

    def ready(self) -> None:
        from apps.core.banner import register_banner_provider
        from apps.safety.checks import celery_hooks_connect, safety_checks_register
        from apps.safety.process_guard import process_guard_install
        from apps.safety.selectors import safety_banner_state

        process_guard_install()
        safety_checks_register()
        celery_hooks_connect()
        register_banner_provider("safety", safety_banner_state)
