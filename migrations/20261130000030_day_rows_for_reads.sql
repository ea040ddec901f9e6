-- Day rows for reads ("Dashboards at phone speed"): the daily summary and the dashboard now combine the stored
-- daily_aggregates rows of complete days instead of re-reading every raw reading of the period, and compute live only
-- today, days marked dirty and days without a row. Every figure they show combines exactly from the day columns
-- (count-weighted means, pooled SDs from count, mean and SD, minima and maxima, range counts from the percentages
-- times the reading count, lifestyle totals) except the number of activities, which gets its column here. Null
-- without activities, as meal_count is without meals.
ALTER TABLE daily_aggregates ADD COLUMN activity_count integer CHECK (activity_count > 0);

-- Rows written before this column existed lack the count where the day had activities: mark those days dirty, so
-- the reads compute them live and the next aggregation run fills the column. Days without activities are complete.
INSERT INTO dirty_days (user_id, local_date)
SELECT user_id, date FROM daily_aggregates WHERE total_exercise_minutes IS NOT NULL
ON CONFLICT (user_id, local_date) DO NOTHING;
