"""The settings page's notification preferences (apps.ops.NotificationPreference): alerts
about the trader's own bots, by email and/or webhook."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.ops.models import USER_ALERT_KINDS, AlertKind, NotificationPreference

KIND_LABELS = {
    AlertKind.BOT_ERROR: "A bot is paused by an error",
    AlertKind.KILL_SWITCH: "A bot is stopped by its drawdown kill switch",
}


class NotificationPrefsForm(forms.Form):
    email_enabled = forms.BooleanField(required=False, label="Email me")
    email = forms.EmailField(required=False, label="Email address")
    webhook_url = forms.URLField(
        required=False,
        label="Webhook URL",
        assume_scheme="https",
        help_text="Optional. An https URL on a public host; we POST a signed JSON payload.",
    )
    kinds = forms.MultipleChoiceField(
        required=False,
        label="Tell me when",
        choices=[(kind.value, KIND_LABELS[kind]) for kind in USER_ALERT_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: Any, preference: NotificationPreference | None = None, **kwargs: Any):
        self.user = user
        kwargs.setdefault(
            "initial",
            {
                "email_enabled": preference.email_enabled if preference else False,
                "email": (preference.email if preference else "") or getattr(user, "email", ""),
                "webhook_url": preference.webhook_url if preference else "",
                "kinds": preference.kinds if preference else [kind.value for kind in USER_ALERT_KINDS],
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "placeholder": "you@example.com"})
        self.fields["webhook_url"].widget.attrs.update({"placeholder": "https://hooks.example.com/…"})

    def apply_errors(self, fields: dict[str, Any]) -> None:
        """Show a service's field errors on the form."""
        for name, messages in (fields or {}).items():
            self.add_error(name if name in self.fields else None, messages)

    def errors_text(self) -> list[str]:
        return [" ".join(messages) for messages in self.errors.values()]
