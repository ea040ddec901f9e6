//! Validity of explained episodes on sample data with planted post-exercise lows (`glucolens_sample`, "Planted
//! events"): through `GET /api/v1/insights/episodes`, at least 80 % of the planted lows are found and explained by
//! the workout planted before them, and no low is explained by exercise where no workout was recorded in the hours
//! before it. The sample's other lows all follow a usual workout's dip, so a negative control removes the
//! workouts: then no low is explained by exercise. The figures are printed (`--nocapture`).

use axum::http::{header, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use glucolens_app::insights::episode_context::{CONTEXT_LOOKBACK, HYPO_EXERCISE_WINDOW_MINUTES};
use glucolens_sample as sample;
use glucolens_testing as testing;
use serde_json::Value;
use sqlx::PgPool;

const URI: &str = "/api/v1/insights/episodes";
const SEED: u64 = 14;
const DAYS: u32 = 90;

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "glucolens_store::db::MIGRATOR")]
async fn planted_post_exercise_lows_are_explained_by_their_exercise(db: PgPool) {
    let state = testing::state(db.clone()).await;
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    let (generated, planted) = sample::generate_user_with_plants(SEED, 1, "episodes-planted", start, DAYS);
    let user = sample::write_user(&db, &generated, "not-a-hash")
        .await
        .unwrap()
        .expect("a new account")
        .user_id;
    assert!(planted.exercise_lows.len() >= 10, "{}", planted.exercise_lows.len());

    let first = generated.glucose.iter().map(|r| r.time).min().unwrap();
    let last = generated.glucose.iter().map(|r| r.time).max().unwrap() + Duration::minutes(5);
    let uri = format!(
        "{URI}?start={}&end={}",
        first.format("%Y-%m-%dT%H:%M:%SZ"),
        last.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let get = || async {
        let request = http::Request::builder()
            .method("GET")
            .uri(&uri)
            .header(header::AUTHORIZATION, testing::bearer(&state, user))
            .body(lambda_http::Body::Empty)
            .unwrap();
        let reply = testing::respond(api_insights::router(state.clone()), request).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    };
    let body = get().await;

    let lows: Vec<&Value> = body["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "hypo" && e["level"] == 1)
        .collect();
    let after_exercise = |low: &Value| {
        low["context"]["exercise"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["minutes_since_end"].as_i64().unwrap() <= HYPO_EXERCISE_WINDOW_MINUTES)
    };

    // A planted low is found when a level-1 low holds its deepest point, and explained when that low's context
    // names the workout planted before it within the window.
    let mut found = 0;
    let mut explained = 0;
    for plant in &planted.exercise_lows {
        let Some(low) = lows
            .iter()
            .find(|e| instant(&e["start"]) <= plant.nadir_at && plant.nadir_at < instant(&e["end"]))
        else {
            continue;
        };
        found += 1;
        let names_the_workout = low["context"]["exercise"].as_array().unwrap().iter().any(|e| {
            instant(&e["timestamp"]) == plant.exercise_start
                && e["minutes_since_end"].as_i64().unwrap() <= HYPO_EXERCISE_WINDOW_MINUTES
        });
        explained += usize::from(names_the_workout);
    }

    // Lows with no workout (an activity with a duration) recorded in the lookback before them.
    let workout_before = |start: DateTime<Utc>| {
        generated.activities.iter().any(|a| {
            let end = a.start_time + Duration::minutes(a.duration_minutes.into());
            a.duration_minutes > 0 && a.start_time < start && end >= start - CONTEXT_LOOKBACK
        })
    };
    let (with_workout, without_workout): (Vec<&Value>, Vec<&Value>) =
        lows.iter().partition(|low| workout_before(instant(&low["start"])));
    let wrongly_explained = without_workout.iter().filter(|low| after_exercise(low)).count();
    let is_planted = |low: &Value| {
        planted
            .exercise_lows
            .iter()
            .any(|p| instant(&low["start"]) <= p.nadir_at && p.nadir_at < instant(&low["end"]))
    };
    let unplanted_after_usual_workout = with_workout
        .iter()
        .filter(|low| !is_planted(low) && after_exercise(low))
        .count();
    let exercise_sentence = |body: &Value| {
        body["explanations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["type"] == "hypo" && x["factor"] == "exercise")
            .map(|x| x["text"].as_str().unwrap().to_owned())
    };
    let sentence = exercise_sentence(&body);
    println!(
        "planted post-exercise lows: {}, found as episodes: {found}, explained by their workout: {explained} \
         ({:.0} %); level-1 lows: {}, without a workout in the 6 h before: {} (explained by exercise: \
         {wrongly_explained}), unplanted lows after a usual workout: {unplanted_after_usual_workout}; summary: {:?}",
        planted.exercise_lows.len(),
        100.0 * explained as f64 / planted.exercise_lows.len() as f64,
        lows.len(),
        without_workout.len(),
        sentence
    );

    assert!(
        explained * 10 >= planted.exercise_lows.len() * 8,
        "{explained} of {} planted lows explained",
        planted.exercise_lows.len()
    );
    assert_eq!(
        wrongly_explained, 0,
        "lows without a workout before them explained by exercise"
    );
    // The period's sentence counts exactly the lows whose context holds exercise in the window.
    let counted = lows.iter().filter(|low| after_exercise(low)).count();
    assert_eq!(
        sentence.as_deref(),
        Some(format!("{counted} of {} lows began within 6 h after exercise", lows.len()).as_str())
    );

    // Negative control: the same lows without the workouts recorded are explained by no exercise.
    sqlx::query("DELETE FROM activities WHERE user_id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    let control = get().await;
    assert_eq!(control["summary"], body["summary"]);
    assert_eq!(
        exercise_sentence(&control).as_deref(),
        Some(format!("0 of {} lows began within 6 h after exercise", lows.len()).as_str())
    );
}
