from __future__ import annotations

import pytest

from core.enums import TradingMode
from polywindow.settings import (
    FeedSettings,
    SettingsError,
    StackSettings,
    TraderSettings,
    check_every_process,
    load,
)


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


# What `config check` and every process refuse alike (one validation, in the settings models).


@pytest.fixture
def no_feed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "POLYWINDOW_FEED_ASSETS",
        "POLYWINDOW_FEED_INTERVALS_S",
        "POLY_API_KEY",
        "POLY_API_SECRET",
        "POLY_API_PASSPHRASE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("raw", "assets"),
    [
        ("btc", ["btc"]),
        ("btc,eth", ["btc", "eth"]),
        (" BTC , sol ", ["btc", "sol"]),
        ('["xrp", "eth"]', ["xrp", "eth"]),
        ("btc,btc", ["btc"]),
    ],
)
def test_feed_assets_are_a_json_or_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None, raw: str, assets: list[str]
) -> None:
    monkeypatch.setenv("POLYWINDOW_FEED_ASSETS", raw)
    assert load(FeedSettings).assets == assets


@pytest.mark.parametrize("raw", ['["doge"]', "doge", "btc,doge", "", "[]", "[1]"])
def test_unknown_or_missing_assets_are_refused_with_the_allowed_list(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None, raw: str
) -> None:
    monkeypatch.setenv("POLYWINDOW_FEED_ASSETS", raw)
    with pytest.raises(SettingsError, match=r"POLYWINDOW_FEED_ASSETS.*allowed: btc, eth, sol, xrp"):
        load(FeedSettings)
    with pytest.raises(SettingsError, match="POLYWINDOW_FEED_ASSETS"):
        check_every_process()


def test_feed_intervals_take_a_comma_separated_list_and_refuse_unknown_lengths(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None
) -> None:
    monkeypatch.setenv("POLYWINDOW_FEED_INTERVALS_S", "300, 3600")
    assert load(FeedSettings).intervals_s == [300, 3600]
    monkeypatch.setenv("POLYWINDOW_FEED_INTERVALS_S", "[60]")
    with pytest.raises(SettingsError, match=r"POLYWINDOW_FEED_INTERVALS_S.*allowed: 300, 900, 3600, 14400"):
        check_every_process()


@pytest.mark.parametrize("given", ["POLY_API_KEY", "POLY_API_SECRET", "POLY_API_PASSPHRASE"])
def test_one_api_credential_alone_is_refused_by_every_check_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None, given: str
) -> None:
    monkeypatch.setenv(given, "hunter2-credential")
    for attempt in (lambda: load(FeedSettings), check_every_process):
        with pytest.raises(SettingsError) as info:
            attempt()
        assert "must be set together" in str(info.value)
        assert "hunter2" not in str(info.value)


def test_all_three_api_credentials_pass_and_none_is_fine_too(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None
) -> None:
    assert load(FeedSettings).api_creds() is None
    for name in ("POLY_API_KEY", "POLY_API_SECRET", "POLY_API_PASSPHRASE"):
        monkeypatch.setenv(name, f"{name.lower()}-value")
    creds = load(FeedSettings).api_creds()
    assert creds is not None and creds[0] == "poly_api_key-value"
    assert "poly_api_secret-value" not in repr(check_every_process())


def test_every_process_check_reports_a_bad_shared_setting_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYWINDOW_STARTUP_TIMEOUT_S", "-1")
    with pytest.raises(SettingsError) as info:
        check_every_process()
    assert str(info.value).count("POLYWINDOW_STARTUP_TIMEOUT_S") == 1


# Secrets: only settings known not to be secret are echoed in an error; the Kafka client config's
# values never appear in a repr.


def test_kafka_client_config_values_never_show_in_repr_and_unwrap_for_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "KAFKA_CLIENT_CONFIG",
        '{"security.protocol": "SASL_SSL", "sasl.password": "hunter2", "linger.ms": 5}',
    )
    settings = load(StackSettings)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert "hunter2" not in repr(settings.kafka_client_config)
    assert settings.kafka_client() == {
        "security.protocol": "SASL_SSL",
        "sasl.password": "hunter2",
        "linger.ms": "5",
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAFKA_CLIENT_CONFIG", '{"sasl.password": ["hunter2"]}'),
        ("KAFKA_CLIENT_CONFIG", '["hunter2"]'),
        ("DATABASE_URL", "mysql://u:hunter2@db/x"),
        ("POLYWINDOW_CLOB_URL", "hunter2"),
    ],
)
def test_a_bad_value_of_a_setting_not_known_to_be_public_is_hidden(
    monkeypatch: pytest.MonkeyPatch, no_feed_env: None, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("POLYWINDOW_CLOB_URL", "hunter2" if name == "POLYWINDOW_CLOB_URL" else "http://x")
    with pytest.raises(SettingsError) as info:
        check_every_process()
    assert name in str(info.value)
    assert "hunter2" not in str(info.value)
    assert "<hidden>" in str(info.value)


def test_a_bad_value_of_a_public_setting_is_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYWINDOW_ARCHIVE_ROLL_ROWS", "many")
    with pytest.raises(SettingsError, match='POLYWINDOW_ARCHIVE_ROLL_ROWS="many"'):
        check_every_process()


def test_the_watcher_settings_are_unit_named_with_a_statement_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from decimal import Decimal

    from polywindow.settings import WatchSettings

    defaults = load(WatchSettings)
    assert defaults.watch_interval_s == 10 and defaults.alert_drawdown_usd == Decimal(50)
    assert defaults.db_statement_timeout_ms == 30_000 and defaults.db_max_connections is None
    monkeypatch.setenv("POLYWINDOW_ALERT_DRAWDOWN_USD", "-1")
    with pytest.raises(SettingsError, match="POLYWINDOW_ALERT_DRAWDOWN_USD"):
        load(WatchSettings)
    monkeypatch.delenv("POLYWINDOW_ALERT_DRAWDOWN_USD")
    monkeypatch.setenv("POLYWINDOW_DB_STATEMENT_TIMEOUT_MS", "0")
    with pytest.raises(SettingsError, match="POLYWINDOW_DB_STATEMENT_TIMEOUT_MS"):
        load(StackSettings)
