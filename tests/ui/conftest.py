"""Browser-test fixtures: the integration fixtures (a fresh database on the session's stack)."""

from tests.integration.conftest import fresh_database

__all__ = ["fresh_database"]
