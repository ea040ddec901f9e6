-- The nightly correlations job's unit of work (aggregation, then PCMCI) is a task kind of its own, so on-demand and
-- scheduled runs share one message and task vocabulary (see shared/core/src/jobs.rs).
ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_kind_check
    CHECK (kind IN ('aggregate_daily', 'compute_correlations', 'full_analysis', 'discover_patterns', 'import'));
