-- Verification campaigns (issue 14): one run, its windows, and every check with its evidence.
-- `polywindow checklist` reads them; the dashboard's campaigns page shows them.
CREATE TABLE campaign_runs (
    run_id      text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('canary', 'stops')),
    params      jsonb NOT NULL DEFAULT '{}',
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    windows     integer NOT NULL DEFAULT 0 CHECK (windows >= 0),
    checks      integer NOT NULL DEFAULT 0 CHECK (checks >= 0),
    failed      integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    assertion_failures integer NOT NULL DEFAULT 0 CHECK (assertion_failures >= 0),
    passed      boolean,
    summary     jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE campaign_windows (
    run_id      text NOT NULL REFERENCES campaign_runs (run_id) ON DELETE CASCADE,
    window_id   text NOT NULL,
    instrument  text NOT NULL,
    variant     text NOT NULL DEFAULT '',
    our_outcome text,
    venue_outcome text,
    passed      boolean NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, window_id, variant)
);

CREATE TABLE campaign_checks (
    id        bigserial PRIMARY KEY,
    run_id    text NOT NULL REFERENCES campaign_runs (run_id) ON DELETE CASCADE,
    window_id text,
    variant   text NOT NULL DEFAULT '',
    name      text NOT NULL,
    passed    boolean NOT NULL,
    evidence  text NOT NULL DEFAULT ''
);
CREATE INDEX campaign_checks_by_run ON campaign_checks (run_id, passed);
