-- Similar-day clusters are stored as patterns of type 'cluster' (one row per cluster; see
-- glucolens_app::insights::day_clusters). The inline CHECK of the first schema was named after the column's first
-- name, `kind`.
ALTER TABLE patterns DROP CONSTRAINT patterns_kind_check;
ALTER TABLE patterns ADD CONSTRAINT patterns_pattern_type_check
    CHECK (pattern_type IN ('daily_motif', 'short_motif', 'discord', 'association_rule', 'cluster'));
