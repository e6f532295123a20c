"""The recorder's loss alerts: critical, naming the lost range or where the hole starts, one key each."""

from __future__ import annotations

from datetime import UTC, datetime

from core.archive_alerts import broker_reset_alert, offsets_lost_alert
from core.enums import Severity

AT = datetime(2031, 1, 1, tzinfo=UTC)


def test_lost_offsets_name_the_partition_and_the_inclusive_range() -> None:
    alert = offsets_lost_alert("md.book", 2, 10, 15, "dropped", AT)
    assert alert.severity is Severity.CRITICAL and alert.alert_kind == "archive.offsets_lost"
    assert "md.book[2] offsets 10..14 lost (dropped)" in alert.message
    assert alert.dedupe_key == "md.book:2:10:15"


def test_a_reset_log_names_where_each_topics_hole_starts() -> None:
    newest = {"md.spot": AT, "md.book": AT.replace(hour=1)}
    alert = broker_reset_alert("a", "b", newest, AT)
    assert alert.alert_kind == "archive.broker_reset" and alert.dedupe_key == "a->b"
    assert "md.book after 2031-01-01T01:00:00+00:00, md.spot after 2031-01-01T00:00:00+00:00" in alert.message
    assert "nothing archived yet" in broker_reset_alert("a", "b", {}, AT).message
