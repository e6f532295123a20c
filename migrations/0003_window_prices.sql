-- Strikes (issue 8): ours is windows.strike (the rule's start print, or the hourly candle's open);
-- the venue's priceToBeat and finalPrice come from the Gamma event's eventMetadata after the
-- window; a strike that differs from the venue's is a window discrepancy of kind 'strike'.

ALTER TABLE windows
    ADD COLUMN venue_price_to_beat numeric CHECK (venue_price_to_beat IS NULL OR venue_price_to_beat >= 0),
    ADD COLUMN venue_final_price   numeric CHECK (venue_final_price IS NULL OR venue_final_price >= 0),
    ADD COLUMN venue_prices_at     timestamptz;

ALTER TABLE window_discrepancies DROP CONSTRAINT window_discrepancies_kind_check;
ALTER TABLE window_discrepancies ADD CONSTRAINT window_discrepancies_kind_check
    CHECK (kind IN ('outcome', 'condition_id', 'undecidable', 'tokens', 'strike'));
