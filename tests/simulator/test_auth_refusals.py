"""What the venue refuses: forged or tampered signatures, bad HMAC, stale timestamps, wrong owner."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import ApiCreds, OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.signer import Signer

from simulator.signed_order import EXCHANGE_V2, domain_separator, order_digest
from tests.simulator.conftest import HARDHAT_KEY, OTHER_KEY, RunningSim
from tests.simulator.test_client_roundtrip import client_for


def test_order_signed_by_another_key_is_refused(sim: RunningSim) -> None:
    client = client_for(sim)
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    forger = ExchangeOrderBuilderV2(EXCHANGE_V2, 137, Signer(OTHER_KEY, 137))
    forged_sig = forger.build_order_signature(forger.build_order_typed_data(order))
    forged = dataclasses.replace(order, signature=forged_sig)
    with pytest.raises(PolyApiException) as refused:
        client.post_order(forged, OrderType.GTC)
    assert refused.value.status_code == 400
    assert "invalid signature" in refused.value.error_msg["error"]
    assert client.get_open_orders() == []


def test_tampered_amount_breaks_the_signature(sim: RunningSim) -> None:
    client = client_for(sim)
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    tampered = dataclasses.replace(order, takerAmount=str(int(order.takerAmount) * 2))
    with pytest.raises(PolyApiException) as refused:
        client.post_order(tampered, OrderType.GTC)
    assert refused.value.status_code == 400


def test_order_id_is_the_eip712_digest(sim: RunningSim) -> None:
    client = client_for(sim)
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    builder = ExchangeOrderBuilderV2(EXCHANGE_V2, 137, Signer(HARDHAT_KEY, 137))
    expected = builder.build_order_hash(builder.build_order_typed_data(order))
    wire = {f.name: getattr(order, f.name) for f in dataclasses.fields(order)}
    wire["side"] = "BUY"
    assert "0x" + order_digest(wire, domain_separator(137)).hex() == expected
    posted = client.post_order(order, OrderType.GTC)
    assert posted["orderID"] == expected
    with pytest.raises(PolyApiException) as duplicate:
        client.post_order(order, OrderType.GTC)
    assert "Duplicated" in duplicate.value.error_msg["error"]


def test_bad_hmac_is_refused_with_401(sim: RunningSim) -> None:
    good = client_for(sim)
    wrong_secret = ApiCreds(good.creds.api_key, "B" * 43 + "=", good.creds.api_passphrase)
    bad = ClobClient(host=sim.url, chain_id=137, key=HARDHAT_KEY, creds=wrong_secret)
    with pytest.raises(PolyApiException) as refused:
        bad.get_open_orders()
    assert refused.value.status_code == 401
    assert refused.value.error_msg == {"error": "Unauthorized/Invalid api key"}


def test_hmac_over_a_different_body_is_refused(sim: RunningSim) -> None:
    from py_clob_client_v2.clob_types import RequestArgs
    from py_clob_client_v2.headers.headers import create_level_2_headers

    client = client_for(sim)
    signed_body = '{"orderID":"0x01"}'
    headers = create_level_2_headers(
        client.signer, client.creds, RequestArgs("DELETE", "/order", None, signed_body)
    )
    response = httpx.request("DELETE", f"{sim.url}/order", headers=headers, content=b'{"orderID":"0x02"}')
    assert response.status_code == 401


def test_stale_l2_timestamp_and_bad_l1_signature_are_refused(sim: RunningSim) -> None:
    from py_clob_client_v2.clob_types import RequestArgs
    from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers

    client = client_for(sim)
    old = int(time.time()) - 120
    headers = create_level_2_headers(
        client.signer, client.creds, RequestArgs("GET", "/data/orders"), timestamp=old
    )
    assert httpx.get(f"{sim.url}/data/orders", headers=headers).status_code == 401
    l1 = create_level_1_headers(Signer(OTHER_KEY, 137))
    l1["POLY_ADDRESS"] = Account.from_key(HARDHAT_KEY).address
    response = httpx.get(f"{sim.url}/auth/derive-api-key", headers=l1)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid L1 Request headers"}


def test_order_owner_must_be_the_api_key(sim: RunningSim) -> None:
    client = client_for(sim)
    other = client_for(sim, OTHER_KEY)
    order = other.create_order(OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY"))
    with pytest.raises(PolyApiException) as refused:
        client.post_order(order, OrderType.GTC)
    assert refused.value.status_code == 400
    assert "signer address has to be the address of the API KEY" in refused.value.error_msg["error"]
