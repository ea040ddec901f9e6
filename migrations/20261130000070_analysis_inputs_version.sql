-- The scheduled analyses run only where the data changed: `users.aggregates_version` counts the aggregation runs
-- that changed a user's daily aggregates (written or removed rows; bumped in the same transaction), and each run of
-- correlations and patterns records the version it read before reading its inputs. A scheduled message whose run
-- already saw the current version has nothing new to analyse. Existing users start at 1 and existing runs at 0,
-- so each is analysed once more and then only after a change.
ALTER TABLE users ADD COLUMN aggregates_version bigint NOT NULL DEFAULT 1;
ALTER TABLE correlation_runs ADD COLUMN aggregates_version bigint NOT NULL DEFAULT 0;
ALTER TABLE pattern_runs ADD COLUMN aggregates_version bigint NOT NULL DEFAULT 0;
