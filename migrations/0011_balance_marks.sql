-- The collateral balance reconciliation last agreed with, per mode: the next reconciliation expects
-- it plus the cash of the fills booked since (fills_cash is the sum it was taken at) plus what was
-- redeemed since. A balance other than that was changed from outside.
CREATE TABLE balance_marks (
    mode       text PRIMARY KEY CHECK (mode IN ('LIVE', 'DRY_RUN', 'PAPER', 'BACKTEST')),
    balance    numeric NOT NULL CHECK (balance >= 0),
    fills_cash numeric NOT NULL,
    marked_at  timestamptz NOT NULL
);
