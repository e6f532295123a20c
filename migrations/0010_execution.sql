-- Execution rows (issue 12): one orders/positions table for every mode, so an intent's natural key
-- is its id within a mode and run (a backtest replays the same intents as a live day).
ALTER TABLE fills DROP CONSTRAINT fills_client_order_id_fkey;
ALTER TABLE orders DROP CONSTRAINT orders_position_id_fkey;
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
ALTER TABLE orders ADD PRIMARY KEY (client_order_id, mode, run_key);

ALTER TABLE positions ADD COLUMN run_key text GENERATED ALWAYS AS (coalesce(run_id, '')) STORED;
ALTER TABLE positions DROP CONSTRAINT positions_pkey;
ALTER TABLE positions ADD PRIMARY KEY (position_id, mode, run_key);
ALTER TABLE positions ADD COLUMN fees_usd numeric NOT NULL DEFAULT 0 CHECK (fees_usd >= 0);
ALTER TABLE positions ADD COLUMN slippage_usd numeric NOT NULL DEFAULT 0;
ALTER TABLE positions ADD COLUMN exit_reason text;
ALTER TABLE positions ADD COLUMN held_to_resolution boolean NOT NULL DEFAULT false;
ALTER TABLE positions ADD COLUMN hold_reason text NOT NULL DEFAULT '';

ALTER TABLE orders ADD FOREIGN KEY (position_id, mode, run_key) REFERENCES positions (position_id, mode, run_key);
CREATE INDEX orders_by_window ON orders (window_id, mode, run_key);

-- The price the decision counted on, kept with every fill of ours: slippage = actual vs intended.
ALTER TABLE fills ADD COLUMN intended_price numeric CHECK (intended_price BETWEEN 0 AND 1);

-- An audit entry written twice (a restarted executor repeating a step) is one row: its natural key.
ALTER TABLE audit_log ADD COLUMN event_key text;
CREATE UNIQUE INDEX audit_log_event_key ON audit_log (event_key);

-- A PARTIALLY_FILLED order whose rest the venue dropped (a FAK) is settled: nothing more can fill.
ALTER TABLE orders ADD COLUMN done boolean NOT NULL DEFAULT false;
