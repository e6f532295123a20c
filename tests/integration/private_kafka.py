"""A private librdkafka mock cluster in the test process, so a test can inject broker faults
(`rd_kafka_mock_push_request_errors_array`) without disturbing the shared stack's topics."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.topics import TOPICS
from infra.mock_kafka import RD_KAFKA_PRODUCER, _load_librdkafka

PRODUCE_API_KEY = 0
OFFSET_COMMIT_API_KEY = 8
INVALID_RECORD = 87  # a per-batch broker rejection: the delivery fails, the producer stays usable
ILLEGAL_GENERATION = 22  # a commit from a member whose group has rebalanced since


@dataclass
class PrivateKafka:
    bootstrap: str
    _lib: ctypes.CDLL
    _cluster: int

    def fail_produce_requests(self, count: int, error_code: int = INVALID_RECORD) -> None:
        """The broker answers the next `count` Produce requests with `error_code`."""
        self._fail_requests(PRODUCE_API_KEY, count, error_code)

    def fail_commit_requests(self, count: int, error_code: int = ILLEGAL_GENERATION) -> None:
        """The broker answers the next `count` OffsetCommit requests with `error_code`."""
        self._fail_requests(OFFSET_COMMIT_API_KEY, count, error_code)

    def _fail_requests(self, api_key: int, count: int, error_code: int) -> None:
        errors = (ctypes.c_int * count)(*([error_code] * count))
        err = self._lib.rd_kafka_mock_push_request_errors_array(self._cluster, api_key, count, errors)
        assert err == 0, f"push_request_errors failed with {err}"

    def broker_down(self, broker_id: int = 1) -> None:
        """The broker closes its connections and refuses new ones until `broker_up` (same address)."""
        assert self._lib.rd_kafka_mock_broker_set_down(self._cluster, broker_id) == 0

    def broker_up(self, broker_id: int = 1) -> None:
        assert self._lib.rd_kafka_mock_broker_set_up(self._cluster, broker_id) == 0


@contextmanager
def private_kafka() -> Iterator[PrivateKafka]:
    lib = _load_librdkafka()
    lib.rd_kafka_mock_push_request_errors_array.restype = ctypes.c_int
    lib.rd_kafka_mock_push_request_errors_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int16,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_int),
    ]
    for name in ("rd_kafka_mock_broker_set_down", "rd_kafka_mock_broker_set_up"):
        getattr(lib, name).restype = ctypes.c_int
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int32]
    lib.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
    conf = lib.rd_kafka_conf_new()
    errbuf = ctypes.create_string_buffer(512)
    lib.rd_kafka_conf_set(conf, b"log_level", b"3", errbuf, len(errbuf))
    handle = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, len(errbuf))
    assert handle, errbuf.value.decode()
    cluster = lib.rd_kafka_mock_cluster_new(handle, 1)
    assert cluster
    for spec in TOPICS:
        lib.rd_kafka_mock_topic_create(cluster, spec.name.encode(), spec.partitions, 1)
    try:
        yield PrivateKafka(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode(), lib, cluster)
    finally:
        lib.rd_kafka_mock_cluster_destroy(cluster)
        lib.rd_kafka_destroy(handle)
