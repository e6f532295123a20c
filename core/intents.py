"""Deterministic decision ids, and the intent / rejection a risk result becomes.

A decision is identified by its window, its strategy and its ordinal (the strategy's n-th signal in
that window): a flow restarted over the same events repeats the decision with the same signal id
and the same client order id, so the executor can refuse the duplicate.
"""

from __future__ import annotations

import hashlib

from core.ids import ClientOrderId
from core.models import DecisionContext, IntentRejected, OrderIntent, Signal
from core.risk import Approved, Rejected

__all__ = ["build_intent", "build_rejection", "client_order_id_for", "signal_id_for"]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def signal_id_for(window_id: str, strategy: str, ordinal: int) -> str:
    """The id of a strategy's `ordinal`-th signal (from 0) in a window."""
    return f"sig-{_digest('signal', window_id, strategy, str(ordinal))[:32]}"


def client_order_id_for(signal_id: str) -> ClientOrderId:
    """One signal gives at most one order, so the order id derives from the signal id alone."""
    return ClientOrderId(f"pw-{_digest('order', signal_id)[:40]}")


def build_intent(signal: Signal, approved: Approved, context: DecisionContext) -> OrderIntent:
    """The order intent of an approved signal: the limit price is the signal's, never a book field."""
    return OrderIntent(
        client_order_id=client_order_id_for(signal.signal_id),
        signal_id=signal.signal_id,
        window_id=signal.window_id,
        strategy=signal.strategy,
        token_id=signal.token_id,
        side=signal.side,
        order_type=approved.order_type,
        limit_price=signal.limit_price,
        size=approved.size,
        mode=approved.mode,
        event_ts=signal.event_ts,
        context=context,
    )


def build_rejection(signal: Signal, rejected: Rejected, controls_version: int | None) -> IntentRejected:
    return IntentRejected(
        signal_id=signal.signal_id,
        window_id=signal.window_id,
        strategy=signal.strategy,
        rule=rejected.rule,
        detail=rejected.detail,
        event_ts=signal.event_ts,
        controls_version=controls_version,
    )
