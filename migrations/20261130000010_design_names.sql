-- The design's tables and columns under the design's names (../shared/design/original-design.md, "Database
-- Schema"). One migration renames; RENAME keeps every row, index, constraint and foreign key. Our extra columns stay.
-- Where a design column is kept under another shape or left out, the reason is given next to it.
--
-- Records (glucose, sleep, activities, meals) also gain what a phone needs to read back, correct and sync them:
--   id          the design's `id`: a bigint from an identity sequence, what clients PATCH and DELETE by. It is not a
--               primary key: on TimescaleDB a unique index must include the time column, and the natural key
--               (user_id, time, source) stays the primary key that makes re-sends idempotent. Identity values are
--               never reused, and lookups go through (user_id, id).
--   updated_at  when the row was last written: the transaction's start (now()), so a change feed can tell which
--               writes may still be uncommitted (see store::changes).
-- Deleted records leave a tombstone in `deleted_records` so the change feed can report deletions.

-- TimescaleDB (where 20261125000002 made hypertables): columns with a non-constant default (identity, now()) cannot
-- be added while compression is enabled, so glucose_readings is decompressed for this migration and compression is
-- enabled again at its end under the new column names. A no-op on plain PostgreSQL. Not exercised by the test suite
-- unless GLUCOLENS_TEST_TIMESCALEDB points it at a TimescaleDB server.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM remove_compression_policy('glucose_readings', if_exists => true);
        PERFORM decompress_chunk(chunk, true) FROM show_chunks('glucose_readings') AS chunk;
        EXECUTE 'ALTER TABLE glucose_readings SET (timescaledb.compress = false)';
    END IF;
END
$$;

-- glucose_readings: the design's `timestamp`, `value` (mg/dL) and `device_id`.
ALTER TABLE glucose_readings RENAME COLUMN time TO "timestamp";
ALTER TABLE glucose_readings RENAME COLUMN value_mg_dl TO value;
ALTER TABLE glucose_readings RENAME COLUMN device TO device_id;
ALTER TABLE glucose_readings ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE glucose_readings ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX glucose_readings_user_id_idx ON glucose_readings (user_id, id);
CREATE INDEX glucose_readings_user_updated_idx ON glucose_readings (user_id, updated_at, id);

-- sleep_data: the design's `sleep_start`, `sleep_end`, `*_sleep_minutes` and `quality_score`.
-- `duration_minutes` (total sleep) is generated from the session and its awake minutes, so it can never disagree
-- with them. The design's `date` is not stored: which local day a night belongs to follows from the user's current
-- time zone (domain::local_day, the one rule for it); a stored date would go stale when the zone changes. The API
-- accepts and checks `date` and returns it computed.
ALTER TABLE sleep_data RENAME COLUMN start_time TO sleep_start;
ALTER TABLE sleep_data RENAME COLUMN end_time TO sleep_end;
ALTER TABLE sleep_data RENAME COLUMN deep_minutes TO deep_sleep_minutes;
ALTER TABLE sleep_data RENAME COLUMN light_minutes TO light_sleep_minutes;
ALTER TABLE sleep_data RENAME COLUMN rem_minutes TO rem_sleep_minutes;
ALTER TABLE sleep_data RENAME COLUMN quality TO quality_score;
ALTER TABLE sleep_data ADD COLUMN duration_minutes integer GENERATED ALWAYS AS (
    (extract(epoch FROM sleep_end - sleep_start) / 60)::integer - coalesce(awake_minutes, 0)) STORED;
ALTER TABLE sleep_data ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE sleep_data ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX sleep_data_user_id_idx ON sleep_data (user_id, id);
CREATE INDEX sleep_data_user_updated_idx ON sleep_data (user_id, updated_at, id);

-- activities: the design's `timestamp`, `calories_burned` and `heart_rate_avg`. `intensity` keeps our values
-- (low, moderate, high); the API accepts the design's light and vigorous as the same levels.
ALTER TABLE activities RENAME COLUMN start_time TO "timestamp";
ALTER TABLE activities RENAME COLUMN calories TO calories_burned;
ALTER TABLE activities RENAME COLUMN avg_heart_rate TO heart_rate_avg;
ALTER TABLE activities ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE activities ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX activities_user_id_idx ON activities (user_id, id);
CREATE INDEX activities_user_updated_idx ON activities (user_id, updated_at, id);

-- meals: the design's `timestamp`, `*_grams` and `photo_url` (now stored; an https URL the client hosts).
ALTER TABLE meals RENAME COLUMN eaten_at TO "timestamp";
ALTER TABLE meals RENAME COLUMN carbs_g TO carbs_grams;
ALTER TABLE meals RENAME COLUMN protein_g TO protein_grams;
ALTER TABLE meals RENAME COLUMN fat_g TO fat_grams;
ALTER TABLE meals RENAME COLUMN fiber_g TO fiber_grams;
ALTER TABLE meals ADD COLUMN photo_url text CHECK (length(photo_url) <= 500);
ALTER TABLE meals ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE meals ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX meals_user_id_idx ON meals (user_id, id);
CREATE INDEX meals_user_updated_idx ON meals (user_id, updated_at, id);

-- Deletions, for the change feed: one row per deleted record, erased with the account.
CREATE TABLE deleted_records (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    record_type  text NOT NULL CHECK (record_type IN ('glucose', 'sleep', 'activity', 'meal')),
    record_id    bigint NOT NULL,
    deleted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, record_type, record_id)
);
CREATE INDEX deleted_records_feed_idx ON deleted_records (user_id, record_type, deleted_at, record_id);

-- users: the design's `timezone`, `target_glucose_min`/`max` (mg/dL) and profile columns.
ALTER TABLE users RENAME COLUMN time_zone TO timezone;
ALTER TABLE users RENAME COLUMN target_low_mg_dl TO target_glucose_min;
ALTER TABLE users RENAME COLUMN target_high_mg_dl TO target_glucose_max;
ALTER TABLE users ADD COLUMN full_name text CHECK (length(full_name) <= 255);
ALTER TABLE users ADD COLUMN date_of_birth date CHECK (date_of_birth >= '1900-01-01');
ALTER TABLE users ADD COLUMN diabetes_type text
    CHECK (diabetes_type IN ('type1', 'type2', 'prediabetes', 'gestational', 'other'));

-- daily_aggregates: the design's names. The `time_*_range_percent` columns are the consensus bands (70–180 mg/dL);
-- the user's own target range stays in `pct_in_user_target`. Values stay double precision (the statistics are
-- computed in floating point; rounding is the API's job). The design's `id` is added; (user_id, date) stays the key.
ALTER TABLE daily_aggregates RENAME COLUMN local_date TO date;
ALTER TABLE daily_aggregates RENAME COLUMN mean_glucose TO avg_glucose;
ALTER TABLE daily_aggregates RENAME COLUMN sd_glucose TO std_glucose;
ALTER TABLE daily_aggregates RENAME COLUMN pct_70_180 TO time_in_range_percent;
ALTER TABLE daily_aggregates RENAME COLUMN pct_above_180 TO time_above_range_percent;
ALTER TABLE daily_aggregates RENAME COLUMN pct_below_70 TO time_below_range_percent;
ALTER TABLE daily_aggregates RENAME COLUMN sleep_minutes TO total_sleep_minutes;
ALTER TABLE daily_aggregates RENAME COLUMN sleep_quality TO sleep_quality_score;
ALTER TABLE daily_aggregates RENAME COLUMN exercise_minutes TO total_exercise_minutes;
ALTER TABLE daily_aggregates RENAME COLUMN carbs_g TO total_carbs_grams;
ALTER TABLE daily_aggregates RENAME COLUMN calories TO total_calories;
ALTER TABLE daily_aggregates ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;

-- correlations: the design's `factor_x` (cause), `factor_y` (effect), `correlation_coefficient`, `confidence_level`.
ALTER TABLE correlations RENAME COLUMN cause_factor TO factor_x;
ALTER TABLE correlations RENAME COLUMN effect_factor TO factor_y;
ALTER TABLE correlations RENAME COLUMN coefficient TO correlation_coefficient;
ALTER TABLE correlations RENAME COLUMN confidence TO confidence_level;
ALTER TABLE correlations ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;

-- patterns: the design's `pattern_type` and `discovered_at`, plus `confidence`, `support` and `occurrences`
-- (filled for association rules and motifs; null where they mean nothing). `pattern_type` keeps our finer kinds
-- (daily_motif and short_motif are the design's 'recurring', discord its 'anomaly'). `id` stays a uuid: patterns are
-- replaced as a set each run and never addressed by a client-chosen number.
ALTER TABLE patterns RENAME COLUMN kind TO pattern_type;
ALTER TABLE patterns RENAME COLUMN computed_at TO discovered_at;
ALTER TABLE patterns ADD COLUMN confidence double precision CHECK (confidence BETWEEN 0 AND 1);
ALTER TABLE patterns ADD COLUMN support double precision CHECK (support BETWEEN 0 AND 1);
ALTER TABLE patterns ADD COLUMN occurrences integer CHECK (occurrences >= 0);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        EXECUTE 'ALTER TABLE glucose_readings SET (timescaledb.compress, timescaledb.compress_segmentby = ''user_id'', timescaledb.compress_orderby = ''"timestamp", source'')';
        PERFORM add_compression_policy('glucose_readings', INTERVAL '30 days');
    END IF;
END
$$;
