"""Suite-wide fixtures: real services, tripwires, and the CI rule that nothing skips.

Locally, a test that needs an unreachable service is skipped with the reason; with CI=true
the same situation is a failure.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest

from config.services import service_reachable

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Every simulator started by the suite appends trading-endpoint hits here unless a test
# gives it its own log (the tests that hit tripwires on purpose do).
_TRIPWIRE_LOG = Path(tempfile.gettempdir()) / f"ptp-tripwires-{os.getpid()}.jsonl"
os.environ.setdefault("EXCHANGE_SIM_TRIPWIRE_LOG", str(_TRIPWIRE_LOG))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


def require_service(name: str, url: str) -> str:
    if service_reachable(url):
        return url
    message = f"{name} unreachable at {url}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: an unreachable service is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    from django.conf import settings

    return require_service("Redis", settings.TEST_REDIS_URL)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    from django.conf import settings

    return require_service("RabbitMQ", settings.TEST_AMQP_URL)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"shared data missing at {SHARED_DATA}")
        pytest.skip(f"shared data missing at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def paper_state_clean():
    """The paper engine keeps per-process state (recent books, consumed liquidity, the
    instrument cache); tests that place orders start and end with it empty."""
    from apps.portfolio import books
    from apps.portfolio.liquidity import liquidity_store
    from apps.portfolio.services.instruments import instrument_cache_clear

    def clear() -> None:
        books.books_clear()
        liquidity_store().clear()
        instrument_cache_clear()

    clear()
    yield
    clear()


def _feed_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(("feed-binance", "feed-kucoin", "feed-watchdog"))}


@pytest.fixture(autouse=True)
def no_leaked_feed_threads():
    """A feed runner left streaming after its test keeps its shard lease and keeps writing
    feed status into whatever cache a later test configures: the later test fails, far from
    the cause (CI, 2026-12-03). Fail the test that leaked it instead, after stopping it."""
    before = _feed_threads()
    yield
    deadline = time.monotonic() + 10
    leaked = _feed_threads() - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.1)
        leaked = {t for t in leaked if t.is_alive()}
    if not leaked:
        return
    import sys
    import traceback

    from apps.market.feeds.supervisor import supervisors_all

    frames = sys._current_frames()
    stacks = "\n".join(
        f"{t.name}:\n{''.join(traceback.format_stack(frames[t.ident]))}" for t in leaked if t.ident in frames
    )
    for supervisor in supervisors_all():
        supervisor.stop()
    pytest.fail(f"feed threads still running after the test: {sorted(t.name for t in leaked)}\n{stacks}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    if settings.USE_POSTGRES:
        return
    reason = (
        "this run is on SQLite (TEST_DB_ENGINE=sqlite); the Postgres run covers it"
        if settings.TEST_DB_ENGINE == "sqlite"
        else "PostgreSQL unreachable (set DATABASE_URL); this test needs Postgres"
    )
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_sessionstart(session: pytest.Session) -> None:
    _TRIPWIRE_LOG.unlink(missing_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The exchange simulator's trading endpoints are tripwires: any hit fails the run."""
    if not _TRIPWIRE_LOG.exists():
        return
    hits = [json.loads(line) for line in _TRIPWIRE_LOG.read_text().splitlines() if line.strip()]
    if not hits:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("!", f"TRIPWIRE: {len(hits)} request(s) reached a simulated trading endpoint")
        for hit in hits[:20]:
            reporter.write_line(json.dumps(hit))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
