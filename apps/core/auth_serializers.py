"""JWT endpoint serializers: the simplejwt ones refusing unknown fields, plus the lockout
check, and explicit documentation serializers with unique component names."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
)

from apps.core.api_serializers import JsonInputSerializer, StrictFieldsMixin
from apps.core.lockout import lockout_check, lockout_ip


class StrictTokenRefreshSerializer(StrictFieldsMixin, TokenRefreshSerializer):
    pass


class StrictTokenVerifySerializer(StrictFieldsMixin, TokenVerifySerializer):
    pass


class StrictTokenBlacklistSerializer(StrictFieldsMixin, TokenBlacklistSerializer):
    pass


class LockoutTokenObtainPairSerializer(StrictFieldsMixin, TokenObtainPairSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # Checked before authenticate() so a locked client gets a clear 429, not a 401.
        lockout_check(username=attrs[self.username_field], ip=lockout_ip(self.context.get("request")))
        return super().validate(attrs)


class AuthTokenObtainInputSerializer(JsonInputSerializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class AuthTokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (Authorization: Bearer <access>).")
    refresh = serializers.CharField(help_text="Refresh token; single use (rotated on refresh).")


class AuthTokenRefreshInputSerializer(JsonInputSerializer):
    refresh = serializers.CharField()


class AuthTokenVerifyInputSerializer(JsonInputSerializer):
    token = serializers.CharField()


class AuthTokenVerifyOutputSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
