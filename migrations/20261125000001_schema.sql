-- GlucoLens schema. Plain PostgreSQL 15+; TimescaleDB features are layered on in a later, guarded migration.
-- Every data row belongs to exactly one user and disappears with the account (ON DELETE CASCADE).
-- Every data table has a natural key so re-sending the same record never duplicates it.
-- Glucose is stored in mg/dL with one decimal; the accepted range 20–600 covers every real meter and CGM value.

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    password_hash      text NOT NULL,
    time_zone          text NOT NULL DEFAULT 'UTC',
    target_low_mg_dl   numeric(4,1) NOT NULL DEFAULT 70  CHECK (target_low_mg_dl BETWEEN 40 AND 200),
    target_high_mg_dl  numeric(4,1) NOT NULL DEFAULT 180 CHECK (target_high_mg_dl BETWEEN 80 AND 400),
    display_unit       text NOT NULL DEFAULT 'mg/dL' CHECK (display_unit IN ('mg/dL', 'mmol/L')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (target_low_mg_dl < target_high_mg_dl)
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Opaque refresh tokens, stored as SHA-256 hashes. A token is single-use: using it sets rotated_at and issues the next
-- token of the same family; presenting an already-rotated token revokes the whole family (theft detection).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Fixed-window counters shared by every Lambda instance: per-user API rate limit and login throttling.
-- `bucket` is an opaque key (e.g. 'api:<user id>' or 'login:<sha256 of email>'), never an email in clear.
CREATE TABLE rate_limit_windows (
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL DEFAULT 0 CHECK (hits >= 0),
    PRIMARY KEY (bucket, window_start)
);

-- Who read which health data when. Erased with the account, like the data it describes.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action       text NOT NULL,
    resource     text NOT NULL,
    request_id   text,
    occurred_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_user_time_idx ON audit_log (user_id, occurred_at);

CREATE TABLE glucose_readings (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    time         timestamptz NOT NULL,
    source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    value_mg_dl  numeric(4,1) NOT NULL CHECK (value_mg_dl BETWEEN 20 AND 600),
    trend        text CHECK (length(trend) <= 32),
    device       text CHECK (length(device) <= 128),
    -- Set when the device reported an out-of-range marker (e.g. Dexcom `High`) that was mapped to a value.
    clipped      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, time, source)
);

CREATE TABLE sleep_data (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    source          text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    deep_minutes    integer CHECK (deep_minutes >= 0),
    light_minutes   integer CHECK (light_minutes >= 0),
    rem_minutes     integer CHECK (rem_minutes >= 0),
    awake_minutes   integer CHECK (awake_minutes >= 0),
    quality         smallint CHECK (quality BETWEEN 0 AND 10),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time > start_time),
    CHECK (end_time - start_time <= interval '24 hours'),
    PRIMARY KEY (user_id, start_time, source)
);

CREATE TABLE activities (
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_time         timestamptz NOT NULL,
    activity_type      text NOT NULL CHECK (length(activity_type) BETWEEN 1 AND 64),
    source             text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    duration_minutes   integer NOT NULL CHECK (duration_minutes >= 0 AND duration_minutes <= 1440),
    intensity          text CHECK (intensity IN ('low', 'moderate', 'high')),
    calories           numeric(7,1) CHECK (calories >= 0),
    steps              integer CHECK (steps >= 0),
    avg_heart_rate     smallint CHECK (avg_heart_rate BETWEEN 20 AND 250),
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, start_time, activity_type, source)
);

CREATE TABLE meals (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    eaten_at        timestamptz NOT NULL,
    source          text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    meal_type       text CHECK (meal_type IN ('breakfast', 'lunch', 'dinner', 'snack', 'other')),
    carbs_g         numeric(6,1) NOT NULL CHECK (carbs_g >= 0 AND carbs_g <= 2000),
    protein_g       numeric(6,1) CHECK (protein_g >= 0),
    fat_g           numeric(6,1) CHECK (fat_g >= 0),
    fiber_g         numeric(6,1) CHECK (fiber_g >= 0),
    calories        numeric(7,1) CHECK (calories >= 0),
    glycemic_load   numeric(6,1) CHECK (glycemic_load >= 0),
    description     text CHECK (length(description) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, eaten_at, source)
);

-- One row per user per *local* calendar day (the user's IANA zone, so 23 or 25 hours on DST days).
CREATE TABLE daily_aggregates (
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    local_date            date NOT NULL,
    reading_count         integer NOT NULL CHECK (reading_count >= 0),
    expected_readings     integer NOT NULL CHECK (expected_readings > 0),
    coverage_percent      double precision NOT NULL CHECK (coverage_percent BETWEEN 0 AND 100),
    -- Days under 70 % coverage are kept for display but excluded from statistics.
    sufficient_data       boolean NOT NULL,
    mean_glucose          double precision,
    median_glucose        double precision,
    sd_glucose            double precision,
    cv_percent            double precision,
    gmi_percent           double precision,
    min_glucose           double precision,
    max_glucose           double precision,
    pct_below_54          double precision,
    pct_54_69             double precision,
    pct_70_180            double precision,
    pct_181_250           double precision,
    pct_above_250         double precision,
    pct_below_70          double precision,
    pct_above_180         double precision,
    pct_in_user_target    double precision,
    hypo_events           integer,
    sleep_minutes         double precision,
    deep_sleep_minutes    double precision,
    rem_sleep_minutes     double precision,
    sleep_quality         double precision,
    exercise_minutes      double precision,
    active_calories       double precision,
    steps                 integer,
    carbs_g               double precision,
    calories              double precision,
    protein_g             double precision,
    fat_g                 double precision,
    meal_count            integer,
    computed_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, local_date)
);

-- Local days whose aggregate must be recomputed (written by ingestion, consumed by the aggregation job).
CREATE TABLE dirty_days (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    local_date  date NOT NULL,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, local_date)
);

CREATE TABLE correlations (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cause_factor     text NOT NULL,
    effect_factor    text NOT NULL,
    lag_days         smallint NOT NULL CHECK (lag_days >= 0),
    coefficient      double precision NOT NULL CHECK (coefficient BETWEEN -1 AND 1),
    p_value          double precision NOT NULL CHECK (p_value BETWEEN 0 AND 1),
    q_value          double precision NOT NULL CHECK (q_value BETWEEN 0 AND 1),
    sample_size      integer NOT NULL CHECK (sample_size > 0),
    confidence       text NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
    effect_size      double precision,
    effect_unit      text,
    method           text NOT NULL DEFAULT 'pcmci-parcorr',
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, cause_factor, effect_factor, lag_days)
);

CREATE TABLE patterns (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('daily_motif', 'short_motif', 'discord', 'association_rule')),
    description    text NOT NULL,
    score          double precision,
    example_dates  date[] NOT NULL DEFAULT '{}',
    metadata       jsonb NOT NULL DEFAULT '{}',
    computed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patterns_user_kind_idx ON patterns (user_id, kind);

CREATE TABLE tasks (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('aggregate_daily', 'full_analysis', 'discover_patterns', 'import')),
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    progress      smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- At most one pending task of a kind per user: a second trigger finds and returns the pending one.
CREATE UNIQUE INDEX tasks_one_pending_idx ON tasks (user_id, kind) WHERE status IN ('queued', 'running');
CREATE INDEX tasks_user_idx ON tasks (user_id, created_at);
