"""The declared topics' settings on a real cluster (core/topics.py), and the pinned broker jars."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.topics import TOPICS, TopicSpec, replication_on, topic, topic_config
from infra.kafka_jars import problems, sha256_of


@given(st.sampled_from(TOPICS), st.integers(min_value=1, max_value=9))
def test_replication_is_the_declared_factor_capped_at_the_cluster_and_min_isr_leaves_one_to_lose(
    spec: TopicSpec, brokers: int
) -> None:
    replicas = replication_on(spec, brokers)
    assert replicas == min(3, brokers)
    min_isr = int(topic_config(spec, brokers)["min.insync.replicas"])
    assert min_isr == (2 if replicas >= 3 else 1)
    assert min_isr < replicas or replicas == 1  # one broker can go without stopping acks=all writes


def test_only_the_controls_are_compacted_and_kept_forever_the_rest_expire() -> None:
    assert topic_config(topic("ctl.controls"), 3)["cleanup.policy"] == "compact"
    assert topic_config(topic("ctl.controls"), 3)["retention.ms"] == "-1"
    for spec in TOPICS:
        if spec.name != "ctl.controls":
            config = topic_config(spec, 3)
            assert config["cleanup.policy"] == "delete", spec.name
            assert int(config["retention.ms"]) > 0, spec.name


def test_a_jar_missing_extra_or_altered_is_named(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.jar").write_bytes(b"a")
    (lib / "b.jar").write_bytes(b"b")
    lock = tmp_path / "jars.sha256"
    lock.write_text(f"# pinned\n{sha256_of(lib / 'a.jar')}  a.jar\n{sha256_of(lib / 'b.jar')}  b.jar\n")
    assert problems(lib, lock) == []
    (lib / "b.jar").write_bytes(b"tampered")
    (lib / "c.jar").write_bytes(b"c")
    (lib / "a.jar").unlink()
    assert problems(lib, lock) == ["missing: a.jar", "not pinned: c.jar", "sha256 mismatch: b.jar"]
