"""The settings page's notification preferences: one alert rule per user (apps.ops.AlertRule)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.ops.models import AlertKind, AlertRule, Severity


def user_rule_name(user: Any) -> str:
    return f"user:{user.pk}"


class NotificationPrefsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Email me about alerts")
    email = forms.EmailField(required=False, label="Email address")
    kind = forms.ChoiceField(choices=AlertKind.choices, label="Alert kind")
    min_severity = forms.ChoiceField(choices=Severity.choices, label="Minimum severity")

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        self.user = user
        rule = AlertRule.objects.filter(name=user_rule_name(user)).first()
        kwargs.setdefault(
            "initial",
            {
                "enabled": bool(rule and rule.enabled),
                "email": (rule.email_to if rule else "") or getattr(user, "email", ""),
                "kind": rule.kind if rule else AlertKind.ANY,
                "min_severity": rule.min_severity if rule else Severity.WARNING,
            },
        )
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("enabled") and not cleaned.get("email"):
            self.add_error("email", "An address is needed to send alerts.")
        return cleaned

    def errors_text(self) -> list[str]:
        return [f"{name}: {' '.join(messages)}" for name, messages in self.errors.items()]

    def save(self) -> AlertRule:
        rule, _ = AlertRule.objects.update_or_create(
            name=user_rule_name(self.user),
            defaults={
                "enabled": self.cleaned_data["enabled"],
                "email_to": self.cleaned_data["email"],
                "kind": self.cleaned_data["kind"],
                "min_severity": self.cleaned_data["min_severity"],
                "source": AlertRule.Source.ADMIN,
            },
        )
        return rule
