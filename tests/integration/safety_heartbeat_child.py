"""A stand-in executor for the dead-man-switch test: rests a GTC order and keeps the venue heartbeat.

Run as `python -m tests.integration.safety_heartbeat_child URL TOKEN_ID` with the private key in
POLY_PRIVATE_KEY; prints `order <id>` once the order rests, then `beat <n>` after every heartbeat,
until it is killed.
"""

from __future__ import annotations

import os
import sys
import threading

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType

from execution.venue_heartbeat import VenueHeartbeat


def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    client = ClobClient(host=url, chain_id=137, key=os.environ["POLY_PRIVATE_KEY"])
    client.set_api_creds(client.create_or_derive_api_key())
    beats = 0

    def on_beat(_: str) -> None:
        nonlocal beats
        beats += 1
        print(f"beat {beats}", flush=True)

    heartbeat = VenueHeartbeat(client, interval_s=0.2, on_beat=on_beat)
    heartbeat.set_resting(True)  # before the order goes out: a crash after the POST is covered
    heartbeat.start()
    order = client.create_order(OrderArgsV2(token_id=token, price=0.40, size=5.0, side="BUY"))
    posted = client.post_order(order, OrderType.GTC)
    print(f"order {posted['orderID']}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
