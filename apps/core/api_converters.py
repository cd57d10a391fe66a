"""URL converter for object ids: at most 18 digits, so no path can overflow a bigint
column (an overflow is a database error, i.e. a 500, not a 404)."""

from __future__ import annotations

from django.urls import register_converter


class ObjectIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(ObjectIdConverter, "id")
