-- Issue 12: a trailing take-profit's peak bid since entry, kept with the position so a restarted
-- executor exits at the same level (it only rises: the writers keep the greater); and a won
-- position's redeemed payout, so a simulated mode's paper balance is credited by its settlement.
ALTER TABLE positions ADD COLUMN peak_price numeric CHECK (peak_price BETWEEN 0 AND 1);
ALTER TABLE positions ADD COLUMN payout_usd numeric NOT NULL DEFAULT 0 CHECK (payout_usd >= 0);
