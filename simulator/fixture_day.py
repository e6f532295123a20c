"""The fixture-day readers now live in `connectors.fixture_files` (trading code reads them too);
re-exported here for the simulator's existing imports."""

from connectors.fixture_files import (
    FIXTURE_DAY,
    FIXTURES_ENV,
    FixtureDay,
    RecordedTick,
    RecordedWindow,
    fixtures_dir,
    load_fixture_day,
    load_markets,
    load_prices,
)

__all__ = [
    "FIXTURES_ENV",
    "FIXTURE_DAY",
    "FixtureDay",
    "RecordedTick",
    "RecordedWindow",
    "fixtures_dir",
    "load_fixture_day",
    "load_markets",
    "load_prices",
]
