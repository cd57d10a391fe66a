"""Login form that reports a locked (username, IP) pair clearly instead of 'wrong password'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from apps.core.lockout import lockout_ip, lockout_seconds_left


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username:
            left = lockout_seconds_left(username=username, ip=lockout_ip(self.request))
            if left:
                minutes = max(1, (left + 59) // 60)
                raise forms.ValidationError(
                    f"Too many failed login attempts. Try again in {minutes} minute(s).", code="login_locked"
                )
        return super().clean()
