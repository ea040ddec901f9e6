-- How much data each user's last pattern discovery had, so GET /insights/patterns can tell "not enough data yet"
-- (and what is missing) from "no patterns found", as correlation_runs does for correlations. Replaced with the
-- user's patterns in one transaction; erased with the account.
CREATE TABLE pattern_runs (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Days of glucose on the 5-minute grid (slots with a value / 288) that the shape analysis had.
    glucose_days  double precision NOT NULL CHECK (glucose_days >= 0),
    -- Sufficient-data days with time in target, sleep and carbs recorded that the association rules had.
    rule_days     integer NOT NULL CHECK (rule_days >= 0),
    computed_at   timestamptz NOT NULL DEFAULT now()
);
