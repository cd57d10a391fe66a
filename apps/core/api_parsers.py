"""The API's JSON parser: DRF's, reading the body through the one decoder (apps/core/json_body.py),
so too-deep JSON is a 400 and an oversized body a 413 (DRF reads the request as a stream,
which Django's own size check does not cover)."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import JSONParser, get_encoding

from apps.core.json_body import body_size_limit, json_body_parse, payload_too_large_error


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = get_encoding(parser_context or {})
        limit = body_size_limit()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise payload_too_large_error()
        return json_body_parse(raw, encoding=encoding)
