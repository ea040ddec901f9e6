-- The latest correlation analysis of each user: when it ran, on which consecutive days and variables, or why it
-- could not (too few qualifying days). The API answers "not enough data yet, N more days" from this row.
CREATE TABLE correlation_runs (
    user_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status            text NOT NULL CHECK (status IN ('computed', 'not_enough_data')),
    qualifying_days   integer NOT NULL CHECK (qualifying_days >= 0),
    required_days     integer NOT NULL CHECK (required_days > 0),
    first_date        date,
    last_date         date,
    variables         text[] NOT NULL DEFAULT '{}',
    computed_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'computed') = (first_date IS NOT NULL AND last_date IS NOT NULL))
);
