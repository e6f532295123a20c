-- An alert's identity is (kind, dedupe_key, event_ts): the row a process writes directly and the copy
-- the alert sink consumes from ops.alerts (or a batch delivered twice) are one row.
DELETE FROM alerts a
USING alerts b
WHERE a.kind = b.kind AND a.dedupe_key = b.dedupe_key AND a.event_ts = b.event_ts AND a.id > b.id;

CREATE UNIQUE INDEX alerts_identity ON alerts (kind, dedupe_key, event_ts);
