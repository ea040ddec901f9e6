-- How far each scheduled fan-out run got, so a run that hit the Lambda deadline or crashed part-way resumes after
-- the last user whose messages SQS confirmed instead of messaging everyone again (at 100,000+ users one pass can
-- approach the 300 s timeout). A run is one scheduled occurrence of a job, named by its EventBridge event's `time`:
-- Lambda's retries of that event carry the same time and resume; the next occurrence has a new time and starts at
-- the first user. The row is written once per page of users, so a crash resends at most one page (processing is
-- idempotent). About three rows a night; no user data and no foreign key: the cursor is only a position in id
-- order, which stays valid if that user is deleted.
CREATE TABLE fan_out_runs (
    kind          text NOT NULL CHECK (kind IN ('aggregate_daily', 'compute_correlations', 'discover_patterns')),
    run_key       text NOT NULL,
    -- The greatest user id whose message was confirmed sent; NULL until the first page is.
    last_user_id  uuid,
    -- Users messaged over all attempts of the run.
    users_sent    bigint NOT NULL DEFAULT 0 CHECK (users_sent >= 0),
    attempts      integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
    started_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Set when the last page was sent; an event delivered again for a finished run sends nothing.
    finished_at   timestamptz,
    PRIMARY KEY (kind, run_key)
);
