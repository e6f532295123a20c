-- Feeds runtime (issue 8 items 8-10): counters feed_stats did not keep. Per feed: book drifts and
-- failed REST resyncs (counted on the market channel), sessions ended by a crash. Per process (the
-- row whose feed is 'feeds.process'): supervised task crashes, database writes refused by the full
-- writer queue, events dropped by a full Kafka producer queue.

ALTER TABLE feed_stats
    ADD COLUMN drifts           bigint NOT NULL DEFAULT 0 CHECK (drifts >= 0),
    ADD COLUMN resync_failed    bigint NOT NULL DEFAULT 0 CHECK (resync_failed >= 0),
    ADD COLUMN crashes          bigint NOT NULL DEFAULT 0 CHECK (crashes >= 0),
    ADD COLUMN write_overflow   bigint NOT NULL DEFAULT 0 CHECK (write_overflow >= 0),
    ADD COLUMN produce_overflow bigint NOT NULL DEFAULT 0 CHECK (produce_overflow >= 0);
