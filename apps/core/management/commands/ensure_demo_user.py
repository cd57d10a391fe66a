from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.services import demo_user_ensure


class Command(BaseCommand):
    help = "Create the demo user if none exists and print its login."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_user_ensure()
        if result.created:
            self.stdout.write(self.style.SUCCESS("Demo login created (shown once):"))
            self.stdout.write(f"  username: {result.username}\n  password: {result.password}")
        else:
            self.stdout.write(
                f"Demo user '{result.username}' already exists (its password was printed when it was created; "
                f"change it with: python manage.py changepassword {result.username})."
            )
