"""Every test session runs on a stack and an archive of its own, never the operator's.

Before any test reads a setting, the session points POLYWINDOW_STACK_DIR and POLYWINDOW_ARCHIVE_DIR
at a fresh directory (under POLYWINDOW_TEST_DIR when set, else the system temp dir), so the
in-process code and every `polywindow` subprocess (they inherit the environment) use it. The
embedded stack is started there on first use (the `endpoints` fixture) and stopped, and the
directory removed, when the session ends.

DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS naming a real server are kept: the tests then run there,
isolated by unique database names, consumer groups and ids. When they merely name the operator's
own embedded stack (exported by `eval "$(polywindow stack env)"`), they are cleared for the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from infra import stack
from polywindow.settings import SettingsError, StackSettings, load

TEST_ROOT = pytest.StashKey[Path]()

# Property tests judge results, never speed: hypothesis's per-example deadline and its too-slow
# health check are timing assertions, which a shared CI machine turns into flakes.
settings.register_profile("polywindow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("polywindow")


def _operator_stack_dir() -> Path:
    try:
        return load(StackSettings).stack_dir
    except SettingsError:  # a bad setting is for the tests about settings to find, not for this hook
        return Path(os.environ.get("POLYWINDOW_STACK_DIR") or ".stack")


def _clear_addresses_of(stack_dir: Path) -> None:
    """Blank (an empty value means unset, and beats `.env`) the addresses of the operator's stack."""
    bootstrap_file = stack_dir / "kafka.bootstrap"
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if kafka and bootstrap_file.exists() and bootstrap_file.read_text().strip() == kafka:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = ""
    if f"host={(stack_dir / 'pg').resolve()}" in os.environ.get("DATABASE_URL", ""):
        os.environ["DATABASE_URL"] = ""


def pytest_configure(config: pytest.Config) -> None:
    _clear_addresses_of(_operator_stack_dir())
    parent = os.environ.get("POLYWINDOW_TEST_DIR") or None
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="pw-test-", dir=parent)).resolve()
    os.environ["POLYWINDOW_STACK_DIR"] = str(root / "stack")
    os.environ["POLYWINDOW_ARCHIVE_DIR"] = str(root / "archive")
    config.stash[TEST_ROOT] = root


def pytest_unconfigure(config: pytest.Config) -> None:
    root = config.stash.get(TEST_ROOT, None)
    if root is None:
        return
    stack.down(root / "stack")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def endpoints() -> stack.Endpoints:
    """The session's stack (or the servers the environment names): started on first use, stopped at
    the end of the session; migrations applied."""
    from sinks.postgres.migrate import migrate

    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    found = stack.up(
        settings.stack_dir,
        url,
        settings.kafka_bootstrap_servers,
        settings.kafka_client(),
        settings.startup_timeout_s,
    )
    migrate(found.database_url)
    return found
