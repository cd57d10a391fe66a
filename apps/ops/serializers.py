"""Alerts API serializers (unique names: drf-spectacular components)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api_serializers import JsonInputSerializer, StrictBooleanField
from apps.ops.models import (
    USER_ALERT_KINDS,
    AlertKind,
    AlertNotification,
    AlertRule,
    NotificationPreference,
    Severity,
)

# A notification has one concrete kind; "*" only exists on rules.
NOTIFICATION_KINDS = [(value, label) for value, label in AlertKind.choices if value != AlertKind.ANY]
PREFERENCE_KINDS = [(kind.value, kind.label) for kind in USER_ALERT_KINDS]


class AlertRuleOutputSerializer(serializers.ModelSerializer):
    # A webhook URL usually carries its secret; staff read it in the admin, not here.
    has_webhook = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField(help_text="True for the rule behind your notification preferences.")

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "kind",
            "min_severity",
            "enabled",
            "email_to",
            "has_webhook",
            "dedup_seconds",
            "max_per_hour",
            "source",
            "mine",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_webhook(self, rule: AlertRule) -> bool:
        return bool(rule.webhook_url)

    def get_mine(self, rule: AlertRule) -> bool:
        request = self.context.get("request")
        try:
            preference = rule.preference
        except NotificationPreference.DoesNotExist:
            return False
        return request is not None and preference.user_id == request.user.pk


class AlertPreferenceOutputSerializer(serializers.ModelSerializer):
    # Plain strings: both are "" when unset, which the email/uri formats would not allow.
    email = serializers.CharField(read_only=True)
    webhook_url = serializers.CharField(read_only=True)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=PREFERENCE_KINDS))
    rule = serializers.IntegerField(source="rule_id", allow_null=True, read_only=True)
    email_address = serializers.SerializerMethodField(help_text="Where email goes: `email`, else the account's.")
    signing_secret = serializers.SerializerMethodField(
        help_text="The webhook's new signing secret, only in the response that created it (else null)."
    )

    class Meta:
        model = NotificationPreference
        fields = [
            "email_enabled",
            "email",
            "email_address",
            "webhook_url",
            "kinds",
            "rule",
            "signing_secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_email_address(self, preference: NotificationPreference) -> str:
        return preference.email_address()

    def get_signing_secret(self, preference: NotificationPreference) -> str | None:
        return getattr(preference, "new_signing_secret", None)


class WebhookSecretOutputSerializer(serializers.Serializer):
    signing_secret = serializers.CharField(read_only=True, help_text="Shown once: store it now.")


# An https URL on a named host (labels of letters, digits and inner hyphens, a letters-only
# top-level domain), an optional port and path: a subset of what Django's URLValidator takes,
# so this pattern is the whole check the schema documents. Whether the host is public is a
# rule it cannot state (names like *.internal, and DNS): 422 (apps.ops.preferences).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
WEBHOOK_URL_PATTERN = rf"^https://{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}(?::{_PORT})?(?:/[!-~]*)?$"


def webhook_url_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(WEBHOOK_URL_PATTERN, allow_blank=True, max_length=200, required=False, **kwargs)


class AlertPreferenceInputSerializer(JsonInputSerializer):
    email_enabled = StrictBooleanField()
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, default="")
    webhook_url = webhook_url_field(
        default="", help_text="An https URL on a public host; we POST a signed JSON payload."
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=PREFERENCE_KINDS),
        required=False,
        default=list,
        max_length=len(PREFERENCE_KINDS),
        help_text="The alerts about your own bots you want.",
    )


class AlertPreferencePatchSerializer(JsonInputSerializer):
    email_enabled = StrictBooleanField(required=False)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    webhook_url = webhook_url_field()
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=PREFERENCE_KINDS), required=False, max_length=len(PREFERENCE_KINDS)
    )


def preference_values(preference: NotificationPreference | None, changes: dict[str, Any]) -> dict[str, Any]:
    """The full set of values to save: the stored ones (or the defaults) with ``changes``."""
    current = {"email_enabled": False, "email": "", "webhook_url": "", "kinds": []}
    if preference is not None:
        current = {
            "email_enabled": preference.email_enabled,
            "email": preference.email,
            "webhook_url": preference.webhook_url,
            "kinds": list(preference.kinds),
        }
    return {**current, **changes}


class AlertNotificationOutputSerializer(serializers.ModelSerializer):
    rule = serializers.IntegerField(source="rule_id", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = AlertNotification
        fields = [
            "id",
            "rule",
            "rule_name",
            "channel",
            "status",
            "kind",
            "severity",
            "dedup_key",
            "title",
            "message",
            "data",
            "error",
            "attempts",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class AlertNotificationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertNotification.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=NOTIFICATION_KINDS, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    channel = serializers.ChoiceField(choices=AlertNotification.Channel.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="Created at or after (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Created before (ISO 8601).")
