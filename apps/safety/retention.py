"""Audit retention: events older than the retention period leave the database only after they
are safely in a compressed archive file (the audit log is append-only everywhere else).

Each batch is written as ``audit-<first id>-<last id>.jsonl.gz`` (one JSON object per event,
every column), flushed to disk and renamed into place; only then are exactly those rows
deleted. A failed write deletes nothing, so the next run retries the same batch.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from apps.safety.models import AuditEvent

ARCHIVE_BATCH = 5000
_COLUMNS = [field.attname for field in AuditEvent._meta.concrete_fields]


class _ArchiveEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (it cuts them to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def _archive_write(*, directory: Path, rows: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"audit-{rows[0]['id']:012d}-{rows[-1]['id']:012d}.jsonl.gz"
    partial = final.with_name(final.name + ".tmp")
    with partial.open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as fh:
            for row in rows:
                fh.write(json.dumps(row, cls=_ArchiveEncoder, sort_keys=True).encode() + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, final)
    return final


def _rows_delete(*, first_id: int, last_id: int, before: datetime, expected: int) -> None:
    """Raw DELETE of the archived id range: the model's manager refuses deletes by design."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            # Table name from model metadata; every value is a bound parameter.
            f"DELETE FROM {table} WHERE id >= %s AND id <= %s AND created_at < %s",  # noqa: S608 - model table  # nosec B608 - model table name
            [first_id, last_id, before],
        )
        if cursor.rowcount != expected:
            raise RuntimeError(f"audit retention: {cursor.rowcount} rows matched, {expected} archived; rolled back")


def audit_archive_and_prune(*, before: datetime, archive_dir: Path, batch: int = ARCHIVE_BATCH) -> int:
    """Archive, then delete, every audit event created before ``before``; returns the count."""
    done = 0
    while True:
        old = AuditEvent.objects.filter(created_at__lt=before).order_by("id")
        rows = list(old.values(*_COLUMNS)[:batch])
        if not rows:
            return done
        _archive_write(directory=archive_dir, rows=rows)
        _rows_delete(first_id=rows[0]["id"], last_id=rows[-1]["id"], before=before, expected=len(rows))
        done += len(rows)
