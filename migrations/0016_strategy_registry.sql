-- Strategy registry (issue 14, seed 3.2): each version of a strategy with its declared parameters,
-- risk parameters, instrument scope and the expectation written down before its first trade
-- (win-rate range, kill criterion, scale-up criteria; NULL: none, and LIVE refuses it). A version is
-- never edited: a change is a new version. `strategy_kills` records each time the kill criterion
-- paused a version, once per mode (the alert's episode).

CREATE TABLE strategy_versions (
    strategy      text NOT NULL CHECK (strategy ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    version       integer NOT NULL CHECK (version > 0),
    params        jsonb NOT NULL DEFAULT '{}',
    risk          jsonb NOT NULL DEFAULT '{}',
    instruments   jsonb NOT NULL CHECK (jsonb_typeof(instruments) = 'array' AND jsonb_array_length(instruments) > 0),
    expectation   jsonb,
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (strategy, version)
);

CREATE FUNCTION strategy_versions_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'strategy_versions are never edited (register a new version): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER strategy_versions_no_update_delete BEFORE UPDATE OR DELETE ON strategy_versions
    FOR EACH ROW EXECUTE FUNCTION strategy_versions_are_immutable();

CREATE TABLE strategy_kills (
    strategy        text NOT NULL,
    version         integer NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')),
    reason          text NOT NULL,
    settled_windows integer NOT NULL CHECK (settled_windows > 0),
    paused          boolean NOT NULL,
    killed_at       timestamptz NOT NULL,
    PRIMARY KEY (strategy, version, mode),
    FOREIGN KEY (strategy, version) REFERENCES strategy_versions (strategy, version)
);
