//! The SQL of the account export (`GET /api/v1/users/me/export`, the rights of access and portability): the
//! read-only snapshot it runs in, and for each table of the user's data one query that has PostgreSQL turn every
//! row into a line of JSON text, read as a row stream. Belongs here: which tables and columns are exported, under
//! their column names, and in which order the rows come. Does not belong here: the export's format (header, order of
//! the sections, line types, framing) and its audit entry, which are `glucolens_app::export`'s.
//!
//! Columns are listed, not `*`: a column added later is exported only once someone decides it should be (the
//! export tests fail until then), so a secret can never slip into an export by being added to a table. Never
//! exported: `user_id` (the export's header names the user once), `users.password_hash`, `imports.object_key`
//! (where the uploaded file was kept, meaningless outside the service), and the tables of credentials and
//! bookkeeping (refresh tokens, Nightscout secret hashes, rate-limit windows, dirty days, analysis runs, deletion
//! tombstones, and the grants given to others, which `GET /api/v1/shares` lists; the reads made through them are in
//! the exported audit rows).

use futures_util::stream::BoxStream;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A table of the user's data, as the export reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// The account itself, without its password hash.
    Users,
    GlucoseReadings,
    SleepData,
    Activities,
    Meals,
    DailyAggregates,
    Correlations,
    Patterns,
    Imports,
    Tasks,
    AuditLog,
}

/// One export query: each row of `$table` owned by user `$1` as a JSON object whose first field is `type` (`$2`),
/// then `$columns` under their names, in `$order`. Built at compile time, so every query is a static string.
macro_rules! export_query {
    ($table:literal, owner $owner:literal, columns $columns:literal, order $order:literal) => {
        concat!(
            "SELECT row_to_json(t)::text FROM (SELECT $2::text AS type, ",
            $columns,
            " FROM ",
            $table,
            " WHERE ",
            $owner,
            " = $1) t ORDER BY ",
            $order
        )
    };
}

impl Table {
    /// The query of this table. Orders follow each table's key or time index, so the rows stream off the index
    /// without a sort: readings and records by time (then source), days by date, the rest by creation.
    fn query(self) -> &'static str {
        match self {
            Table::Users => export_query!(
                "users",
                owner "id",
                columns "id, email, full_name, date_of_birth, diabetes_type, timezone, target_glucose_min, \
                         target_glucose_max, display_unit, created_at, updated_at",
                order "id"
            ),
            Table::GlucoseReadings => export_query!(
                "glucose_readings",
                owner "user_id",
                columns "id, \"timestamp\", value, source, trend, device_id, clipped, created_at, updated_at",
                order "\"timestamp\", source"
            ),
            Table::SleepData => export_query!(
                "sleep_data",
                owner "user_id",
                columns "id, sleep_start, sleep_end, source, duration_minutes, deep_sleep_minutes, \
                         light_sleep_minutes, rem_sleep_minutes, awake_minutes, quality_score, created_at, updated_at",
                order "sleep_start, source"
            ),
            Table::Activities => export_query!(
                "activities",
                owner "user_id",
                columns "id, \"timestamp\", activity_type, source, duration_minutes, intensity, calories_burned, \
                         steps, heart_rate_avg, created_at, updated_at",
                order "\"timestamp\", activity_type, source"
            ),
            Table::Meals => export_query!(
                "meals",
                owner "user_id",
                columns "id, \"timestamp\", source, meal_type, carbs_grams, protein_grams, fat_grams, fiber_grams, \
                         calories, glycemic_load, description, photo_url, created_at, updated_at",
                order "\"timestamp\", source"
            ),
            Table::DailyAggregates => export_query!(
                "daily_aggregates",
                owner "user_id",
                columns "id, date, reading_count, expected_readings, coverage_percent, sufficient_data, avg_glucose, \
                         median_glucose, std_glucose, cv_percent, gmi_percent, min_glucose, max_glucose, \
                         pct_below_54, pct_54_69, time_in_range_percent, pct_181_250, pct_above_250, \
                         time_below_range_percent, time_above_range_percent, pct_in_user_target, hypo_events, \
                         total_sleep_minutes, deep_sleep_minutes, rem_sleep_minutes, sleep_quality_score, \
                         total_exercise_minutes, activity_count, active_calories, steps, total_carbs_grams, \
                         total_calories, protein_g, fat_g, meal_count, computed_at",
                order "date"
            ),
            Table::Correlations => export_query!(
                "correlations",
                owner "user_id",
                columns "id, factor_x, factor_y, lag_days, correlation_coefficient, p_value, q_value, sample_size, \
                         confidence_level, effect_size, effect_unit, method, computed_at",
                order "factor_x, factor_y, lag_days"
            ),
            Table::Patterns => export_query!(
                "patterns",
                owner "user_id",
                columns "id, pattern_type, description, score, confidence, support, occurrences, example_dates, \
                         metadata, discovered_at",
                order "discovered_at, id"
            ),
            Table::Imports => export_query!(
                "imports",
                owner "user_id",
                columns "id, format, status, report, error, created_at, finished_at",
                order "created_at, id"
            ),
            Table::Tasks => export_query!(
                "tasks",
                owner "user_id",
                columns "id, kind, status, progress, error, created_at, started_at, finished_at, updated_at",
                order "created_at, id"
            ),
            Table::AuditLog => export_query!(
                "audit_log",
                owner "user_id",
                columns "id, action, resource, request_id, occurred_at, actor_kind, actor_id, share_id",
                order "occurred_at, id"
            ),
        }
    }
}

/// Starts the export's transaction: every query in it sees the database as of its first query (one consistent
/// snapshot across the tables, whatever is written meanwhile), and it cannot write.
pub async fn begin_snapshot(db: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    db.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await
}

/// Each of `user_id`'s rows of `table` as the text of one JSON object, `{"type": line_type, <column>: <value>, ...}`,
/// in the table's order. A stream: rows arrive as the caller reads them, never all at once.
pub fn rows<'c>(
    conn: &'c mut PgConnection,
    table: Table,
    user_id: Uuid,
    line_type: &'static str,
) -> BoxStream<'c, Result<String, sqlx::Error>> {
    sqlx::query_scalar(table.query())
        .bind(user_id)
        .bind(line_type)
        .fetch(conn)
}
