"""The `trade.intents` consumer: each intent through `OrderManager.execute`, offsets committed after.

One consumer group; a message's offset is committed only once its execution (and so every row it
wrote to PostgreSQL) is done: an executor killed mid-intent sees the intent again on restart, and
the order manager finds the order it stored and settles it instead of placing a second one. An
undecodable value is logged and skipped (its offset committed): it can never become an order; so is
an intent risk approved for another mode than this executor's. An execution that fails (the venue
or the database away) is logged, its offset is not committed and the consumer seeks back to it, so
it is tried again after `retry_s` (resuming what was stored), never skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from confluent_kafka import Consumer, KafkaException, TopicPartition

from connectors.kafka import decode_message
from connectors.polymarket.clob import PostFailed
from core.models import OrderIntent
from execution.order_manager import ExecutionResult, OrderManager

__all__ = ["IntentConsumer"]

log = structlog.get_logger(__name__)


class IntentConsumer:
    def __init__(
        self,
        consumer: Consumer,
        manager: OrderManager,
        retry_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._consumer = consumer
        self._manager = manager
        self._retry_s = retry_s
        self._sleep = sleep
        self.failures = 0
        self.executed = 0
        self.undecodable = 0
        self.other_mode = 0
        self.commit_failures = 0

    def poll_once(self, timeout_s: float = 0.05) -> list[ExecutionResult]:
        """Take what is waiting, execute it in order, then commit; returns what was executed."""
        results: list[ExecutionResult] = []
        msgs = self._consumer.consume(100, timeout_s)
        for msg in msgs:
            if msg.error() is not None:
                log.warning("execute.kafka_error", error=str(msg.error()))
                continue
            try:
                event = decode_message(msg)
            except (ValueError, KafkaException) as exc:
                self.undecodable += 1
                log.error("execute.undecodable_intent", offset=msg.offset(), error=str(exc))
            else:
                if isinstance(event, OrderIntent) and event.mode is not self._manager.mode:
                    self.other_mode += 1  # risk approved it for another mode: never ours to trade
                elif isinstance(event, OrderIntent):
                    try:
                        results.append(self._manager.execute(event))
                    except Exception as exc:
                        # Not committed: the intent comes again (the manager resumes what it stored).
                        self.failures += 1
                        if isinstance(exc, PostFailed):  # the venue did not answer: expected, no trace
                            log.error(
                                "execute.intent_failed", client_order_id=event.client_order_id, error=str(exc)
                            )
                        else:
                            log.exception("execute.intent_failed", client_order_id=event.client_order_id)
                        tp = TopicPartition(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)
                        self._consumer.seek(tp)
                        self._sleep(self._retry_s)
                        return results
                    self.executed += 1
            try:
                self._consumer.commit(message=msg, asynchronous=False)
            except KafkaException as exc:
                # The group moved on (a rebalance while a broker was cut off, a session that lapsed):
                # the rows are written; whoever owns the partition now reads the intent again and
                # the manager refuses it as already executed. Not a reason to stop the executor.
                self.commit_failures += 1
                log.warning("execute.commit_failed", offset=msg.offset(), error=str(exc))
                return results
        return results

    def run(self, stop: Callable[[], bool]) -> None:
        while not stop():
            self.poll_once()
