-- Feed integrity (issue 5): clock offsets per source, window integrity discrepancies, feed counters,
-- capture rates per token and data completeness per feed per window.

CREATE TABLE clock_offsets (
    id            bigserial PRIMARY KEY,
    source        text NOT NULL,
    measured_at   timestamptz NOT NULL,
    offset_ms     numeric NOT NULL,
    rtt_ms        numeric CHECK (rtt_ms IS NULL OR rtt_ms >= 0),
    resolution_ms numeric NOT NULL CHECK (resolution_ms >= 0)
);
CREATE INDEX clock_offsets_by_source ON clock_offsets (source, measured_at DESC);

-- One row per window and kind of disagreement; a re-check updates it.
CREATE TABLE window_discrepancies (
    id          bigserial PRIMARY KEY,
    window_id   text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('outcome', 'condition_id', 'undecidable', 'tokens')),
    ours        text NOT NULL DEFAULT '',
    venue       text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '',
    detected_at timestamptz NOT NULL,
    UNIQUE (window_id, kind)
);

CREATE TABLE feed_stats (
    id               bigserial PRIMARY KEY,
    feed             text NOT NULL,
    measured_at      timestamptz NOT NULL,
    frames           bigint NOT NULL CHECK (frames >= 0),
    events           bigint NOT NULL CHECK (events >= 0),
    duplicates       bigint NOT NULL CHECK (duplicates >= 0),
    out_of_order     bigint NOT NULL CHECK (out_of_order >= 0),
    quarantined      bigint NOT NULL CHECK (quarantined >= 0),
    reconnects       bigint NOT NULL CHECK (reconnects >= 0),
    resyncs          bigint NOT NULL CHECK (resyncs >= 0),
    last_tick_age_ms numeric
);
CREATE INDEX feed_stats_by_feed ON feed_stats (feed, measured_at DESC);

CREATE TABLE capture_rates (
    token_id    text NOT NULL,
    measured_at timestamptz NOT NULL,
    ticks_per_s numeric NOT NULL CHECK (ticks_per_s >= 0),
    PRIMARY KEY (token_id, measured_at)
);

CREATE TABLE feed_completeness (
    feed        text NOT NULL,
    window_id   text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    percent     numeric NOT NULL CHECK (percent >= 0 AND percent <= 100),
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (feed, window_id),
    CHECK (end_ts > start_ts)
);
