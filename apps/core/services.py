"""Writes that belong to no single trading app: the demo account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_USERNAME = "demo"


@dataclass(frozen=True)
class DemoUserResult:
    username: str
    password: str | None  # None when the user already existed (password not known)
    created: bool


@transaction.atomic
def demo_user_ensure(*, username: str = DEMO_USERNAME, password: str | None = None) -> DemoUserResult:
    """Create the demo user once. Running it again changes nothing (idempotent `make run`)."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return DemoUserResult(username=username, password=None, created=False)
    password = password or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email=f"{username}@localhost", password=password)
    return DemoUserResult(username=username, password=password, created=True)
