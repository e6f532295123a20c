-- A window whose start came before our data began (feeds started or restarted mid-window) is
-- NOT_OBSERVED: nothing to decide it from, and no warning (core.window_integrity.observed).
ALTER TABLE windows DROP CONSTRAINT windows_our_outcome_check;
ALTER TABLE windows ADD CONSTRAINT windows_our_outcome_check
    CHECK (our_outcome IN ('UP', 'DOWN', 'UNDECIDABLE', 'NOT_OBSERVED'));
