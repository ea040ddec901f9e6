-- File imports (Dexcom Clarity, LibreView, Nightscout entries, Apple Health): one row per file, with its outcome.
-- A large file is uploaded to S3 first (status awaiting_upload, object_key set) and imported by the worker the
-- upload triggers; a small one is posted directly and imported at once.
CREATE TABLE imports (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format       text NOT NULL CHECK (format IN ('dexcom_clarity', 'libreview', 'nightscout_entries', 'apple_health')),
    status       text NOT NULL CHECK (status IN ('awaiting_upload', 'running', 'succeeded', 'failed')),
    object_key   text UNIQUE CHECK (length(object_key) <= 1024),
    -- Counts (imported, already present, skipped and adjusted by reason with line numbers); never values.
    report       jsonb,
    error        text CHECK (length(error) <= 2000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX imports_user_created_idx ON imports (user_id, created_at);
