"""The API's JSON parser: DRF's, reading the body through the one decoder (apps/core/json_body.py),
so too-deep JSON is a 400 and an oversized body a 413 (DRF reads the request as a stream,
which Django's own size check does not cover)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from apps.core.json_body import body_size_limit, json_body_parse, payload_too_large_error


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        # A non-text codec (bz2_codec, ...) is refused by bytes.decode: malformed, never expanded.
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        limit = body_size_limit()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise payload_too_large_error()
        return json_body_parse(raw, encoding=encoding)
