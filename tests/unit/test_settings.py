from __future__ import annotations

import pytest

from core.enums import TradingMode
from polywindow.settings import SettingsError, StackSettings, TraderSettings, load


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "POLYWINDOW_MODE", "KAFKA_CLIENT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working tree


def test_defaults_mean_the_embedded_stack_in_dry_run() -> None:
    settings = load(TraderSettings)
    assert settings.database_url is None
    assert settings.kafka_bootstrap_servers is None
    assert settings.mode is TradingMode.DRY_RUN


def test_bad_mode_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYWINDOW_MODE", "YOLO")
    with pytest.raises(SettingsError, match="POLYWINDOW_MODE"):
        load(TraderSettings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("KAFKA_CLIENT_CONFIG", "not json"),
        ("POLYWINDOW_STARTUP_TIMEOUT_S", "-1"),
    ],
)
def test_each_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load(StackSettings)


def test_database_url_is_secret_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@db/x")
    settings = load(StackSettings)
    assert "hunter2" not in repr(settings)
    monkeypatch.setenv("DATABASE_URL", "mysql://u:hunter2@db/x")
    with pytest.raises(SettingsError) as info:
        load(StackSettings)
    assert "hunter2" not in str(info.value)


def test_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("POLYWINDOW_MODE=PAPER\n")
    assert load(TraderSettings).mode is TradingMode.PAPER
