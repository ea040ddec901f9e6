-- The design's `quality_score NUMERIC(3,1)`: a sleep score on the 0–10 scale with one decimal (8.5 stays 8.5).
-- Existing whole-number scores keep their values; the range check is recreated for the new type.
ALTER TABLE sleep_data DROP CONSTRAINT IF EXISTS sleep_data_quality_check;
ALTER TABLE sleep_data ALTER COLUMN quality TYPE numeric(3,1) USING quality::numeric(3,1);
ALTER TABLE sleep_data ADD CONSTRAINT sleep_data_quality_check CHECK (quality BETWEEN 0 AND 10);
