"""Helpers for the safety tests: a simulator on loopback and the unmodified client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from py_clob_client_v2.client import ClobClient

from tests.simulator.conftest import HARDHAT_KEY, RunningSim, fast_config, start_sim


@contextmanager
def running_sim(**overrides: Any) -> Iterator[RunningSim]:
    sim, stop = start_sim(fast_config(**overrides))
    try:
        yield sim
    finally:
        stop()


def client_for(sim: RunningSim, key: str = HARDHAT_KEY) -> ClobClient:
    client = ClobClient(host=sim.url, chain_id=137, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client
