"""Alerts API serializers (unique names: drf-spectacular components)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api_serializers import JsonInputSerializer, PatchInputSerializer, StrictBooleanField
from apps.ops.models import AlertKind, AlertNotification, AlertRule, Severity
from apps.ops.selectors import user_rule_name


# A notification has one concrete kind; "*" only exists on rules.
NOTIFICATION_KINDS = [(value, label) for value, label in AlertKind.choices if value != AlertKind.ANY]


class AlertRuleOutputSerializer(serializers.ModelSerializer):
    # A webhook URL usually carries its secret; staff read it in the admin, not here.
    has_webhook = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField(help_text="True for the signed-in user's own rule (editable here).")

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
        return request is not None and rule.name == user_rule_name(request.user)


class AlertRuleCreateInputSerializer(JsonInputSerializer):
    enabled = StrictBooleanField(default=True)
    email = serializers.EmailField(
        required=False, allow_blank=True, max_length=254, help_text="Default: the account's email address."
    )
    kind = serializers.ChoiceField(choices=AlertKind.choices, default=AlertKind.ANY)
    min_severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.WARNING)


class AlertRuleUpdateInputSerializer(PatchInputSerializer):
    enabled = StrictBooleanField(required=False)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    kind = serializers.ChoiceField(choices=AlertKind.choices, required=False)
    min_severity = serializers.ChoiceField(choices=Severity.choices, required=False)


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
