-- Per-user upload secret for Nightscout uploaders (xDrip+, AndroidAPS, Loop, Trio). They send the SHA-1 hex of the
-- secret in the `api-secret` header; only the SHA-256 of that header value is stored, so the table alone cannot
-- authenticate anyone. One secret per user; creating a new one replaces (revokes) the old one.
CREATE TABLE nightscout_secrets (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    api_secret_hash  bytea NOT NULL UNIQUE CHECK (length(api_secret_hash) = 32),
    created_at       timestamptz NOT NULL DEFAULT now()
);
