-- Sessions: a refresh-token family is one sign-in, and access tokens name it (`sid`). Every authenticated request
-- asks whether its session has a revoked token (sign-out or detected re-use); this partial index answers that with
-- one probe however many rotations the family has, and stays small (only revoked rows).
CREATE INDEX refresh_tokens_revoked_family_idx ON refresh_tokens (family_id) WHERE revoked_at IS NOT NULL;
