-- Kafka delivery per process (issue 9): on the 'feeds.process' row, the events the broker
-- acknowledged and the ones given up (timed out, refused, purged at shutdown). With produce_overflow
-- they account for every event produced: produced = delivered + delivery_failed + in flight.
ALTER TABLE feed_stats
    ADD COLUMN delivered       bigint NOT NULL DEFAULT 0 CHECK (delivered >= 0),
    ADD COLUMN delivery_failed bigint NOT NULL DEFAULT 0 CHECK (delivery_failed >= 0);
