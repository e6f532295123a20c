-- Runtime assertions run in BACKTEST too, on the replay's event time: a backtest's results carry its
-- run id (NULL: live trading, what /health, the breaker and the daily summary read).
ALTER TABLE assertion_results ADD COLUMN run_id text;
CREATE INDEX assertion_results_run ON assertion_results (run_id, event_ts) WHERE run_id IS NOT NULL;
