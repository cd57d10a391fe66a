"""OpenAPI glue: the shared error component and an AutoSchema that documents the uniform
error responses on every operation, so no endpoint can forget them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from apps.core.api_query import query_declaration_record

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (see error.fields).",
    "401": "Not authenticated, or the token is invalid or expired.",
    "403": "Authenticated but not allowed.",
    "404": "Not found (or not yours).",
    "405": "Method not allowed.",
    "409": "Conflict with the current state.",
    "429": "Too many requests; see the Retry-After header.",
}


class CachedUserJWTScheme(SimpleJWTScheme):
    """Documents apps.core.auth_jwt's authentication as the same bearer scheme ("jwtAuth")."""

    target_class = "apps.core.auth_jwt.CachedUserJWTAuthentication"


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable summary.")
    fields = serializers.DictField(
        child=serializers.JSONField(), help_text="Input name -> list of messages (validation errors)."
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class ApiAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            # What the query string may hold is what this operation documents (api_query.py).
            query_declaration_record(view=self.view, method=self.method, operation=operation)
        return operation

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorResponseSerializer, code, direction=direction)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "429"]
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        if not public:
            # 404 also answers ids in bodies and query strings (not yours) and invalid pages.
            codes += ["403", "404"]
        elif "{" in self.path:
            codes.append("404")
        return codes


def request_bodies_closed(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every request body documents ``additionalProperties: false``, as
    the validators refuse unknown fields (apps/core/api_serializers.py: StrictFieldsMixin)."""
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                name = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                component = schemas.get(name)
                if component is not None and component.get("type") == "object":
                    component["additionalProperties"] = False
    return result
