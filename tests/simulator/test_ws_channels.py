"""Market and user channels: a socket-built book equals REST after 10,000 events; user frames."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from typing import Any

from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from websockets.sync.client import ClientConnection, connect

from simulator.book import Side
from simulator.exchange import Exchange, VenueError
from tests.simulator.conftest import RunningSim
from tests.simulator.test_client_roundtrip import client_for

Book = dict[str, dict[str, dict[str, str]]]


def read_frames(ws: ClientConnection, quiet_s: float = 0.5, limit: int = 10**6) -> list[Any]:
    """Every frame until the socket is quiet for `quiet_s`."""
    frames: list[Any] = []
    while len(frames) < limit:
        try:
            frames.append(ws.recv(timeout=quiet_s))
        except TimeoutError:
            break
    return frames


def events(frames: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for frame in frames:
        if frame == "PONG":
            continue
        parsed = json.loads(frame)
        out.extend(parsed if isinstance(parsed, list) else [parsed])
    return out


class LocalBook:
    """What a client keeps per POLYMARKET.md §7.5."""

    def __init__(self) -> None:
        self.books: Book = {}
        self.drift = 0

    def apply(self, event: dict[str, Any]) -> None:
        kind = event["event_type"]
        if kind == "book":
            self.books[event["asset_id"]] = {
                "BUY": {lv["price"]: lv["size"] for lv in event["bids"]},
                "SELL": {lv["price"]: lv["size"] for lv in event["asks"]},
            }
        elif kind == "price_change":
            for change in event["price_changes"]:
                levels = self.books[change["asset_id"]][change["side"]]
                if change["size"] == "0":
                    levels.pop(change["price"], None)
                else:
                    levels[change["price"]] = change["size"]
                bid, ask = self.top(change["asset_id"])
                if (bid or "0", ask or "1") != (change["best_bid"], change["best_ask"]):
                    self.drift += 1

    def top(self, asset: str) -> tuple[str | None, str | None]:
        book = self.books[asset]
        bid = max(book["BUY"], key=Decimal, default=None)
        ask = min(book["SELL"], key=Decimal, default=None)
        return bid, ask

    def as_rest(self, asset: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        book = self.books[asset]
        bids = [{"price": p, "size": book["BUY"][p]} for p in sorted(book["BUY"], key=Decimal)]
        asks = [
            {"price": p, "size": book["SELL"][p]} for p in sorted(book["SELL"], key=Decimal, reverse=True)
        ]
        return bids, asks


def random_flow(exchange: Exchange, up: str, down: str, n: int, seed: int) -> int:
    """Seeded order flow: quotes on both tokens (some crossing, so trades), cancels."""
    rng = random.Random(seed)
    live: list[tuple[str, str]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.3 and live:
            owner, _oid = live.pop(rng.randrange(len(live)))
            exchange.cancel(owner, [_oid])
            continue
        token = up if rng.random() < 0.5 else down
        side: Side = "BUY" if rng.random() < 0.5 else "SELL"
        cents = min(99, max(1, int(rng.gauss(50, 8))))
        size = Decimal(rng.randrange(5, 200))
        owner = f"mm{rng.randrange(3)}"
        try:
            oid = exchange.place_liquidity(token, side, Decimal(cents) / 100, size, owner)
        except VenueError:
            continue
        live.append((owner, oid))
    return len(live)


def test_socket_book_equals_rest_after_10000_events(sim: RunningSim) -> None:
    up, down = sim.market.up_token_id, sim.market.down_token_id
    with connect(f"{sim.ws_url}/ws/market", max_size=None) as ws:
        ws.send(json.dumps({"assets_ids": [up, down], "type": "market", "custom_feature_enabled": True}))
        dump = json.loads(ws.recv(timeout=5))
        assert isinstance(dump, list) and {e["event_type"] for e in dump} == {"book"}
        local = LocalBook()
        for event in dump:
            local.apply(event)
        sim.call(random_flow, sim.exchange, up, down, 10_000, 20261124)
        seen = events(read_frames(ws, quiet_s=1.0))
    kinds = {e["event_type"] for e in seen}
    assert {"price_change", "book", "last_trade_price", "best_bid_ask"} <= kinds
    for event in seen:
        local.apply(event)
    assert local.drift == 0
    import httpx

    for token in (up, down):
        rest = httpx.get(f"{sim.url}/book", params={"token_id": token}).json()
        bids, asks = local.as_rest(token)
        assert bids == rest["bids"] and asks == rest["asks"]
        assert rest["bids"] or rest["asks"]


def test_ping_pong_and_unsubscribe(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    with connect(f"{sim.ws_url}/ws/market") as ws:
        ws.send(json.dumps({"assets_ids": [up], "type": "market"}))
        assert json.loads(ws.recv(timeout=5))[0]["event_type"] == "book"
        ws.send("PING")
        assert ws.recv(timeout=5) == "PONG"
        ws.send(json.dumps({"operation": "unsubscribe", "assets_ids": [up]}))
        ws.send("PING")
        assert ws.recv(timeout=5) == "PONG"
        sim.quote(up, "BUY", "0.40", "10")
        assert read_frames(ws, quiet_s=0.3) == []


def test_user_channel_reports_our_orders_and_trades(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    client = client_for(sim)
    creds = client.creds
    auth = {"apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase}
    with connect(f"{sim.ws_url}/ws/user") as ws:
        ws.send(json.dumps({"auth": auth, "type": "user", "markets": [sim.market.condition_id]}))
        resting = client.post_order(
            client.create_order(OrderArgsV2(token_id=up, price=0.45, size=10.0, side="BUY")), OrderType.GTC
        )
        sim.quote(up, "SELL", "0.45", "4")
        time.sleep(0.3)
        frames = events(read_frames(ws, quiet_s=0.5))
    orders = [f for f in frames if f["event_type"] == "order"]
    assert [o["type"] for o in orders] == ["PLACEMENT", "UPDATE"]
    assert orders[0]["id"] == resting["orderID"] and orders[0]["owner"] == creds.api_key
    assert orders[1]["size_matched"] == "4"
    trades = [f for f in frames if f["event_type"] == "trade"]
    assert [t["status"] for t in trades] == ["MATCHED", "MINED", "CONFIRMED"]
    assert {t["id"] for t in trades} == {trades[0]["id"]}
    assert trades[0]["trader_side"] == "MAKER"
    assert trades[0]["maker_orders"][0]["order_id"] == resting["orderID"]
    assert trades[0]["maker_orders"][0]["matched_amount"] == "4"
    assert trades[-1]["transaction_hash"].startswith("0x")


def test_user_channel_refuses_bad_auth(sim: RunningSim) -> None:
    from websockets.exceptions import ConnectionClosed

    with connect(f"{sim.ws_url}/ws/user") as ws:
        ws.send(json.dumps({"auth": {"apiKey": "nope", "secret": "x", "passphrase": "y"}, "type": "user"}))
        try:
            ws.recv(timeout=5)
            raise AssertionError("expected the socket to close")
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1008
