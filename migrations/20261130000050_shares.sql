-- Grants of read access to a user's data: to another account (a care partner or clinician who signs in) or as a
-- link (a long random secret, stored only as its SHA-256). `report` opens only the report, `read` every read route.
-- A grant is never deleted by its owner, only revoked, so the access log keeps naming it.
CREATE TABLE shares (
    id            uuid PRIMARY KEY,
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope         text NOT NULL CHECK (scope IN ('report', 'read')),
    -- The account the grant was bound to when it was made (emails are not verified, so never matched at use time).
    grantee_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    token_hash    bytea UNIQUE CHECK (octet_length(token_hash) = 32),
    label         text CHECK (length(label) BETWEEN 1 AND 100),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CHECK ((grantee_id IS NULL) <> (token_hash IS NULL)),
    CHECK (grantee_id <> owner_id),
    CHECK (expires_at > created_at)
);
CREATE INDEX shares_owner_idx ON shares (owner_id, created_at);
CREATE INDEX shares_grantee_idx ON shares (grantee_id, owner_id) WHERE grantee_id IS NOT NULL;

-- Who read: the owner (`owner`), an account through a grant (`account`, `actor_id` the account), or a link
-- (`link`). The kind is kept even when the grant or the reading account is later erased and its reference cleared.
ALTER TABLE audit_log
    ADD COLUMN actor_kind text NOT NULL DEFAULT 'owner' CHECK (actor_kind IN ('owner', 'account', 'link')),
    ADD COLUMN actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN share_id uuid REFERENCES shares (id) ON DELETE SET NULL;
-- Erasing an account or a grant clears these references: the indexes keep that from scanning the whole log.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_share_idx ON audit_log (share_id) WHERE share_id IS NOT NULL;
