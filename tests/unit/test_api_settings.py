"""The API's and the alerts' settings: loopback by default, secrets never echoed, bad values named."""

from __future__ import annotations

import pytest

from polywindow.settings import AlertSettings, ApiSettings, SettingsError, load


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("POLYWINDOW_API_TOKEN", "POLYWINDOW_ALERT_URLS", "POLYWINDOW_API_HOST", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_the_api_binds_to_loopback_and_has_no_token_by_default() -> None:
    settings = load(ApiSettings)
    assert settings.api_host == "127.0.0.1" and settings.api_token is None and settings.alert_urls == []


def test_a_short_token_is_refused_naming_the_variable_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYWINDOW_API_TOKEN", "tiny-secret")
    with pytest.raises(SettingsError) as caught:
        load(ApiSettings)
    assert "POLYWINDOW_API_TOKEN=<hidden>" in str(caught.value) and "tiny-secret" not in str(caught.value)


def test_alert_urls_are_secrets_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYWINDOW_ALERT_URLS", "discord://id/tok3n, json://127.0.0.1:9/hook")
    settings = load(AlertSettings)
    assert [u.get_secret_value() for u in settings.alert_urls] == [
        "discord://id/tok3n",
        "json://127.0.0.1:9/hook",
    ]
    assert "tok3n" not in repr(settings)


def test_an_alert_url_without_a_scheme_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYWINDOW_ALERT_URLS", "hooks.example/s3cret")
    with pytest.raises(SettingsError) as caught:
        load(AlertSettings)
    assert "POLYWINDOW_ALERT_URLS" in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_bad_database_url_is_still_refused_by_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load(ApiSettings)
