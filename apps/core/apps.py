from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from apps.core.money_db import sqlite_money_functions_register

        connection_created.connect(sqlite_money_functions_register, dispatch_uid="ptp-sqlite-money")
