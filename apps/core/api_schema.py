"""OpenAPI glue: the shared error component, an AutoSchema that documents the uniform error
responses on every operation (so no endpoint can forget them), ``error_responses`` for the
codes particular to an operation, and the text constraints DRF enforces but drf-spectacular
does not document.

Statuses: 400 means the request breaks the schema; a request the schema accepts is refused
only with 404 (not found, or not yours), 409 (the current state forbids it) or 422 (a rule
the schema cannot state: between fields, or against market data or DNS), each documented on
the operations that answer it (tests/api/test_schemathesis.py holds the server to that)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
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
    "422": "Valid input that breaks a rule the schema cannot state (see the description and error.fields).",
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


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses particular to an operation, for ``extend_schema(responses=...)``:
    ``responses={200: BotOutputSerializer, **error_responses(409)}``."""
    return {code: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS[str(code)]) for code in codes}


# What str.strip() (DRF's trim_whitespace) removes, i.e. every str.isspace() character (a
# test checks the list): a text made only of these is blank.
WHITESPACE_CLASS = (
    "\\u0009\\u000a\\u000b\\u000c\\u000d\\u001c\\u001d\\u001e\\u001f\\u0020\\u0085\\u00a0\\u1680"
    "\\u2000\\u2001\\u2002\\u2003\\u2004\\u2005\\u2006\\u2007\\u2008\\u2009\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000"
)
TEXT_PATTERN = "^[^\\u0000]*$"  # DRF refuses NUL in every CharField
NON_BLANK_TEXT_PATTERN = f"^[^\\u0000]*[^\\u0000{WHITESPACE_CLASS}][^\\u0000]*$"


def _text_pattern(field: serializers.CharField) -> str:
    blank_ok = field.allow_blank or not getattr(field, "trim_whitespace", False)
    return TEXT_PATTERN if blank_ok else NON_BLANK_TEXT_PATTERN


class ApiAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: str | None, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        exact = getattr(field, "openapi_schema", None)  # a field that documents itself
        if exact is not None and "$ref" not in schema:
            schema = exact(schema)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if (
            not field.read_only
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
        ):
            schema["pattern"] = _text_pattern(field)
            if not field.allow_blank:
                schema.setdefault("minLength", 1)

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer) and self.method != "PATCH":
            # drf-spectacular looks for required fields on the oneOf itself: each variant's count.
            variants = serializer.serializers.values() if isinstance(serializer.serializers, dict) else []
            required = all(any(f.required for f in v().fields.values()) for v in variants)
        return schema, required

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        closed = getattr(serializer, "openapi_additional_properties", None)
        if closed is not None:
            schema["additionalProperties"] = closed
        return schema

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
                _close(schemas, content.get("schema", {}))
    return result


def _close(schemas: dict[str, Any], schema: dict[str, Any]) -> None:
    """Close the object a request body names, or each variant of a oneOf body (bots and
    backtests: one variant per strategy)."""
    component = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1])
    if component is None:
        return
    if component.get("type") == "object":
        component["additionalProperties"] = False
    for variant in component.get("oneOf", ()):
        _close(schemas, variant)
