"""Raw Postgres rows to and from model instances, and one-round-trip statement pipelines,
for the order fast path (``apps.portfolio.services.fastpath``)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

import orjson
import psycopg
from django.db import connection
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

SQL = str
_NEVER = 2**31 - 1
_M = TypeVar("_M", bound=Model)


# -- model <-> row helpers ------------------------------------------------------------------


def columns(model: type[Model]) -> list[Any]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def select_list(model: type[Model], prefix: str = "") -> str:
    # A concrete field always has a column; the stubs type Field.column as Optional.
    return ", ".join(prefix + cast(str, field.column) for field in model._meta.concrete_fields)


@cache
def _loaders(model: type[Model]) -> tuple[tuple[str, Any], ...]:
    """(attname, the field's from_db_value or None) per concrete field, in column order."""
    return tuple((field.attname, getattr(field, "from_db_value", None)) for field in model._meta.concrete_fields)


def instance(model: type[_M], row: tuple) -> _M:
    """A model instance from a raw row in ``select_list`` order: what ``Model.from_db``
    builds, plus the field converters the ORM would apply (e.g. JSON text -> dict), without
    ``Model.__init__`` (a fifth of the lock phase's Python time) unless something listens
    to its init signals. No deferred fields here: every column is in the row."""
    loaders = _loaders(model)
    values = {
        attname: value if value is None or from_db_value is None else from_db_value(value, None, connection)
        for (attname, from_db_value), value in zip(loaders, row, strict=True)
    }
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(connection.alias, None, list(values.values()))  # type: ignore[arg-type]
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding, state.db = False, connection.alias
    return obj


def run(statements: list[tuple[SQL, Any]]) -> list[list[tuple]]:
    """Execute ``statements`` in one pipeline (one round trip); the rows of each, in order.
    Statements with parameters are prepared: their plans are cached on the connection."""
    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        # Django turns psycopg's statement preparation off, and psycopg then ignores
        # prepare=True. A threshold never reached keeps automatic preparation off (Django's
        # own client-side-bound cursors never prepare) and lets ours be prepared: planning
        # the write statement costs more than executing it. Needs a session-level
        # connection to Postgres (no transaction-pooling PgBouncer).
        pg.prepare_threshold = _NEVER
    with connection.wrap_database_errors, pg.pipeline():
        cursors = []
        for sql, params in statements:
            cursor = psycopg.Cursor(pg)
            cursor.execute(sql, params, prepare=params is not None)
            cursors.append(cursor)
    # pgresult, not description: description builds a Column object per column each time.
    return [cursor.fetchall() if _has_rows(cursor) else [] for cursor in cursors]


def _has_rows(cursor: psycopg.Cursor) -> bool:
    result = cursor.pgresult
    return result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK


def json_row(obj: Model, fields: list[Any]) -> dict[str, Any]:
    return {field.column: getattr(obj, field.attname) for field in fields}


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact: the statement casts the text to numeric
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(document: dict[str, Any]) -> str:
    """orjson (~5x json's speed on this document); the standard library for what orjson
    refuses (integers beyond 64 bits in a caller's free-form data)."""
    try:
        return orjson.dumps(document, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(document, default=str)


def mark_saved(obj: Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
