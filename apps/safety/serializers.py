from __future__ import annotations

from rest_framework import serializers

from apps.safety.models import AuditEvent


class SafetyCheckSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    variable = serializers.CharField()
    expected = serializers.CharField()
    actual = serializers.CharField()
    passed = serializers.BooleanField()
    weight = serializers.IntegerField()
    critical = serializers.BooleanField()
    applicable = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)


class SafetyStatusSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="passed weight / total weight, percent")
    ok = serializers.BooleanField(help_text="score >= min_score and every critical check passes")
    min_score = serializers.FloatField()
    paper_only = serializers.BooleanField()
    checks = SafetyCheckSerializer(many=True)
    api_keys = serializers.JSONField(allow_null=True)


class SafetyAuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "category",
            "action",
            "result",
            "actor_label",
            "source_ip",
            "request_id",
            "portfolio_id",
            "exchange",
            "symbol",
            "message",
            "data",
        ]
        read_only_fields = fields


class SafetyAuditEventFilterSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=AuditEvent.Category.choices, required=False)
    result = serializers.ChoiceField(choices=AuditEvent.Result.choices, required=False)
    action = serializers.CharField(required=False, max_length=64)
    symbol = serializers.CharField(required=False, max_length=32)
    exchange = serializers.CharField(required=False, max_length=16)
    since = serializers.DateTimeField(required=False)
