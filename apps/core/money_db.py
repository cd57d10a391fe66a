"""How money is stored: exactly, on every database.

PostgreSQL has ``numeric``. SQLite (the embedded mode of ``make run``) has no decimal type: a
``decimal`` column has NUMERIC affinity, which keeps 15 significant digits as a float, so
``8474.323046531234567891`` came back as ``8474.323046531235`` and the ledger's SUM added
floats. There, a money column is TEXT holding the value's fixed-point form with all its
decimal places (``"9797.750000000000000000"``). Because every stored value and every query
parameter has that one form:

* equality is string equality, and ``>= 0`` (the balance CHECK constraints) holds exactly for
  the non-negative values (a negative one starts with ``-``, which sorts before every digit);
* sums go through ``MoneySum``, an exact Decimal aggregate registered on each connection.

Ordering by a money column in SQL is textual on SQLite; nothing in the product does that
(sorting happens in Python where it matters).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

SQLITE_SUM_FUNCTION = "PTP_MONEY_SUM"


def _is_sqlite(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "sqlite"


def money_text(value: Decimal, *, decimal_places: int, max_digits: int) -> str:
    """The one stored form of a value on SQLite: fixed point, all decimal places, no -0."""
    exponent = Decimal(1).scaleb(-decimal_places)
    fixed = value.quantize(exponent, context=decimal.Context(prec=max_digits))
    if fixed.is_zero():
        fixed = abs(fixed)
    return f"{fixed:f}"


class MoneyField(models.DecimalField):
    """A DecimalField that is exact on SQLite too (see the module docstring)."""

    def get_internal_type(self) -> str:
        # Not "DecimalField": Django's SQLite backend would read the column through a
        # 15-digit float converter and cast expressions to NUMERIC.
        return "MoneyField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if _is_sqlite(connection):
            return "text"
        return connection.data_types["DecimalField"] % self.db_type_parameters(connection)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not _is_sqlite(connection):
            return super().get_db_prep_value(value, connection, prepared)
        if hasattr(value, "as_sql"):
            return value
        value = self.get_prep_value(value) if not prepared or not isinstance(value, Decimal) else value
        if value is None:
            return None
        return money_text(value, decimal_places=self.decimal_places, max_digits=self.max_digits)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):  # an SQLite expression the product does not use for money (AVG)
            return Decimal(repr(value))
        return Decimal(str(value))


class MoneySum(models.Sum):
    """SUM of a money column, exact on every database (SQLite's SUM adds floats)."""

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function=SQLITE_SUM_FUNCTION, **extra_context)


class _ExactSum:
    """The SQLite aggregate behind MoneySum: Decimal addition of the stored texts."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is None:
            return
        amount = Decimal(str(value)) if not isinstance(value, float) else Decimal(repr(value))
        self.total = amount if self.total is None else self.total + amount

    def finalize(self) -> str | None:
        return None if self.total is None else f"{self.total:f}"


def sqlite_money_functions_register(*, sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver (wired in CoreConfig.ready)."""
    if _is_sqlite(connection):
        connection.connection.create_aggregate(SQLITE_SUM_FUNCTION, 1, _ExactSum)


def money_columns_rewrite(app_label: str) -> Any:
    """A migration step: on SQLite, rewrite this app's money columns into the stored form
    (a table rebuilt from NUMERIC columns holds floats' text, e.g. ``1.0e-05``)."""

    def rewrite(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if not _is_sqlite(connection):
            return
        connection.connection.create_function("PTP_MONEY_TEXT", 3, _text_of_stored, deterministic=True)
        with connection.cursor() as cursor:
            for model in apps.get_app_config(app_label).get_models():
                for field in model._meta.local_fields:
                    if isinstance(field, MoneyField):
                        table, column = model._meta.db_table, field.column
                        cursor.execute(
                            f'UPDATE "{table}" SET "{column}" = PTP_MONEY_TEXT("{column}", %s, %s) '  # noqa: S608  # nosec B608 - model table and column names
                            f'WHERE "{column}" IS NOT NULL',
                            [field.decimal_places, field.max_digits],
                        )

    return rewrite


def _text_of_stored(value: Any, decimal_places: int, max_digits: int) -> str | None:
    if value is None:
        return None
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    return money_text(amount, decimal_places=decimal_places, max_digits=max_digits)
