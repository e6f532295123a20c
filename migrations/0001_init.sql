-- polywindow schema, version 1. Money is numeric, time is timestamptz, modes are one column.

CREATE TABLE windows (
    window_id         text PRIMARY KEY,                  -- the market slug
    asset             text NOT NULL CHECK (asset ~ '^[a-z]{2,10}$'),
    interval_s        integer NOT NULL CHECK (interval_s > 0),
    slug              text NOT NULL UNIQUE,
    condition_id      text NOT NULL UNIQUE CHECK (condition_id ~ '^0x[0-9a-fA-F]{64}$'),
    up_token_id       text NOT NULL CHECK (up_token_id ~ '^[0-9]+$'),
    down_token_id     text NOT NULL CHECK (down_token_id ~ '^[0-9]+$'),
    start_ts          timestamptz NOT NULL,
    end_ts            timestamptz NOT NULL,
    strike            numeric,
    settlement_rule   text,
    our_outcome       text CHECK (our_outcome IN ('UP', 'DOWN', 'UNDECIDABLE')),
    our_resolved_at   timestamptz,
    venue_outcome     text CHECK (venue_outcome IN ('UP', 'DOWN')),
    venue_resolved_at timestamptz,
    phase             text NOT NULL DEFAULT 'DISCOVERED' CHECK (phase IN ('DISCOVERED', 'OPEN', 'CLOSED', 'RESOLVED')),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (end_ts > start_ts),
    CHECK (up_token_id <> down_token_id)
);

-- The six runtime controls. The table is the truth; ctl.controls is its change feed.
CREATE TABLE runtime_controls (
    name       text PRIMARY KEY CHECK (name IN ('kill_switch', 'trading_mode', 'max_position_usd',
                                               'max_session_loss_usd', 'allowed_instruments',
                                               'allowed_strategies')),
    value_type text NOT NULL CHECK (value_type IN ('enum', 'usd', 'list')),
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    CHECK (CASE name
        WHEN 'kill_switch' THEN value_type = 'enum'
            AND value #>> '{}' IN ('RUN', 'PAUSE', 'FLATTEN', 'EMERGENCY')
        WHEN 'trading_mode' THEN value_type = 'enum'
            AND value #>> '{}' IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')
        WHEN 'max_position_usd' THEN value_type = 'usd' AND jsonb_typeof(value) = 'string'
            AND (value #>> '{}') ~ '^[0-9]+(\.[0-9]+)?$'
        WHEN 'max_session_loss_usd' THEN value_type = 'usd' AND jsonb_typeof(value) = 'string'
            AND (value #>> '{}') ~ '^[0-9]+(\.[0-9]+)?$'
        ELSE value_type = 'list' AND jsonb_typeof(value) = 'array'
    END)
);

-- Safe defaults: paused, dry run, small caps, nothing allowed until the operator says so.
-- A LIVE trader sets kill_switch to PAUSE itself at start-up, whatever this row says.
INSERT INTO runtime_controls (name, value_type, value, updated_by) VALUES
    ('kill_switch', 'enum', '"PAUSE"', 'migration'),
    ('trading_mode', 'enum', '"DRY_RUN"', 'migration'),
    ('max_position_usd', 'usd', '"5"', 'migration'),
    ('max_session_loss_usd', 'usd', '"25"', 'migration'),
    ('allowed_instruments', 'list', '[]', 'migration'),
    ('allowed_strategies', 'list', '[]', 'migration');

CREATE TABLE positions (
    position_id      text PRIMARY KEY,
    mode             text NOT NULL CHECK (mode IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')),
    run_id           text,
    window_id        text NOT NULL,
    token_id         text NOT NULL,
    strategy         text NOT NULL,
    state            text NOT NULL CHECK (state IN ('ENTRY', 'MONITORING', 'STOP_TRIGGERED', 'TP_TRIGGERED',
                                                    'EXPIRY', 'EXIT_PENDING', 'CLOSED')),
    size             numeric NOT NULL CHECK (size >= 0),
    avg_entry_price  numeric CHECK (avg_entry_price BETWEEN 0 AND 1),
    cost_usd         numeric NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    realized_pnl_usd numeric NOT NULL DEFAULT 0,
    opened_at        timestamptz NOT NULL,
    closed_at        timestamptz,
    updated_at       timestamptz NOT NULL,
    CHECK ((mode = 'BACKTEST') = (run_id IS NOT NULL))
);
CREATE INDEX positions_open ON positions (mode, state) WHERE state <> 'CLOSED';

CREATE TABLE orders (
    client_order_id text PRIMARY KEY,
    venue_order_id  text NOT NULL CHECK (venue_order_id ~ '^0x[0-9a-fA-F]{64}$'),
    mode            text NOT NULL CHECK (mode IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')),
    run_id          text,
    run_key         text GENERATED ALWAYS AS (coalesce(run_id, '')) STORED,
    position_id     text REFERENCES positions (position_id),
    window_id       text NOT NULL,
    token_id        text NOT NULL,
    side            text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type      text NOT NULL CHECK (order_type IN ('GTC', 'GTD', 'FOK', 'FAK')),
    price           numeric NOT NULL CHECK (price > 0 AND price < 1),
    size            numeric NOT NULL CHECK (size > 0),
    size_matched    numeric NOT NULL DEFAULT 0 CHECK (size_matched >= 0 AND size_matched <= size),
    status          text NOT NULL CHECK (status IN ('NEW', 'SUBMITTED', 'UNKNOWN', 'LIVE', 'PARTIALLY_FILLED',
                                                     'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED')),
    signed_payload  jsonb,
    detail          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((mode = 'BACKTEST') = (run_id IS NOT NULL)),
    UNIQUE (venue_order_id, mode, run_key)
);
CREATE INDEX orders_unsettled ON orders (status) WHERE status IN ('SUBMITTED', 'UNKNOWN', 'LIVE', 'PARTIALLY_FILLED');

CREATE TABLE fills (
    trade_id        text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')),
    run_id          text,
    run_key         text GENERATED ALWAYS AS (coalesce(run_id, '')) STORED,
    venue_order_id  text NOT NULL,
    client_order_id text REFERENCES orders (client_order_id),
    window_id       text,
    token_id        text NOT NULL,
    side            text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    price           numeric NOT NULL CHECK (price > 0 AND price < 1),
    size            numeric NOT NULL CHECK (size > 0),
    fee_usd         numeric NOT NULL CHECK (fee_usd >= 0),
    status          text NOT NULL CHECK (status IN ('MATCHED', 'MINED', 'RETRYING', 'CONFIRMED', 'FAILED')),
    is_maker        boolean NOT NULL,
    source_ts       timestamptz NOT NULL,
    recv_ts         timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((mode = 'BACKTEST') = (run_id IS NOT NULL)),
    PRIMARY KEY (trade_id, mode, run_key)
);
CREATE INDEX fills_by_order ON fills (venue_order_id);

CREATE TABLE feed_gaps (
    id         bigserial PRIMARY KEY,
    feed       text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    detail     text NOT NULL DEFAULT '',
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- At most one open gap per feed.
CREATE UNIQUE INDEX feed_gaps_one_open ON feed_gaps (feed) WHERE ended_at IS NULL;

CREATE TABLE assertion_results (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    passed      boolean NOT NULL,
    detail      text NOT NULL DEFAULT '',
    event_ts    timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assertion_results_failed ON assertion_results (event_ts) WHERE NOT passed;

CREATE TABLE breaker_events (
    id       bigserial PRIMARY KEY,
    state    text NOT NULL CHECK (state IN ('OPEN', 'CLOSED')),
    cause    text NOT NULL,
    event_ts timestamptz NOT NULL
);

-- Append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL DEFAULT '',
    detail  jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- One active trader: the holder row is informational; the PostgreSQL advisory lock is the guard.
CREATE TABLE instance_lock (
    name         text PRIMARY KEY,
    holder       text NOT NULL,
    acquired_at  timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

CREATE TABLE alerts (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL,
    severity       text NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),
    message        text NOT NULL,
    dedupe_key     text NOT NULL DEFAULT '',
    event_ts       timestamptz NOT NULL,
    delivered_at   timestamptz,
    delivery_error text
);
