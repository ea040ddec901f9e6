-- TimescaleDB, only where the extension can actually be loaded (managed Postgres in production). On plain PostgreSQL
-- this migration does nothing and the schema above is complete. Queries never depend on it: they use portable SQL
-- (date_bin, not time_bucket), so both paths return the same answers.
-- "Can be loaded" means installed AND preloaded (shared_preload_libraries): CREATE EXTENSION fails on a server where
-- the package is installed but not preloaded, and that must fall back to plain tables, not fail the migration.
-- Exercised by the test suite when GLUCOLENS_TEST_TIMESCALEDB points it at such a server (see the README).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        RAISE NOTICE 'timescaledb not available: plain PostgreSQL tables';
        RETURN;
    END IF;
    IF coalesce(current_setting('shared_preload_libraries', true), '') NOT LIKE '%timescaledb%' THEN
        RAISE NOTICE 'timescaledb is installed but not in shared_preload_libraries: plain PostgreSQL tables';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    -- Primary keys include the time column, as hypertables require. Compression names every column of the natural
    -- key (user_id, time, source), so idempotent re-sends into compressed chunks stay cheap and warning-free.
    PERFORM create_hypertable('glucose_readings', by_range('time', INTERVAL '7 days'), migrate_data => true);
    PERFORM create_hypertable('sleep_data', by_range('start_time', INTERVAL '30 days'), migrate_data => true);
    PERFORM create_hypertable('activities', by_range('start_time', INTERVAL '30 days'), migrate_data => true);
    PERFORM create_hypertable('meals', by_range('eaten_at', INTERVAL '30 days'), migrate_data => true);
    EXECUTE 'ALTER TABLE glucose_readings SET (timescaledb.compress, timescaledb.compress_segmentby = ''user_id'', timescaledb.compress_orderby = ''time, source'')';
    PERFORM add_compression_policy('glucose_readings', INTERVAL '30 days');
    EXECUTE $cagg$
        CREATE MATERIALIZED VIEW glucose_hourly WITH (timescaledb.continuous) AS
        SELECT user_id, time_bucket(INTERVAL '1 hour', time) AS hour,
               count(*) AS readings, avg(value_mg_dl) AS mean_mg_dl,
               min(value_mg_dl) AS min_mg_dl, max(value_mg_dl) AS max_mg_dl
        FROM glucose_readings GROUP BY user_id, hour
        WITH NO DATA
    $cagg$;
    PERFORM add_continuous_aggregate_policy('glucose_hourly',
        start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');
END
$$;
