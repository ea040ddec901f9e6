//! Every real sample file parses with the counts read independently from the file here (a plain split on commas,
//! which is safe for these files: none quotes a comma), and cut-off or mangled files are errors.

use chrono::{DateTime, Utc};
use glucolens_domain::records::GlucoseRecord;
use glucolens_importers::{parse, Context, Findings, Format, ParseError, Record};

fn context(zone: chrono_tz::Tz) -> Context {
    Context {
        time_zone: zone,
        now: Utc::now(),
    }
}

fn run(format: Format, bytes: &[u8], zone: chrono_tz::Tz) -> Result<(Vec<Record>, Findings), ParseError> {
    let mut records = Vec::new();
    let findings = parse(format, bytes, context(zone), &mut |r| {
        records.push(r);
        Ok(())
    })?;
    Ok((records, findings))
}

fn glucose(records: &[Record]) -> Vec<&GlucoseRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Glucose(g) => Some(g),
            _ => None,
        })
        .collect()
}

fn utc(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

/// Rows of a CSV sample whose `column` (0-based) equals `value`.
fn count_rows(text: &str, column: usize, value: &str) -> usize {
    text.lines().filter(|l| l.split(',').nth(column) == Some(value)).count()
}

const CLARITY_12: &str = include_str!("data/clarity_g6_12col_cgmquantify.csv");
const CLARITY_14: &str = include_str!("data/clarity_g6_14col_synthetic_excerpt_cgm_format.csv");
const LIBRE_NOTES: &str = include_str!("data/librelink_mmol_eu_notes_type6_glyco.csv");
const LIBRE_HISTORIC: &str = include_str!("data/librelink_mmol_eu_historic_noheader1_glyco.csv");
const LIBRE_3: &str = include_str!("data/libre3_mgdl_synthetic_excerpt_cgm_format.csv");

/// The synthetic excerpts are dated 1961, before the accepted range (2000 on): moved to 2001 (same days) where a
/// test is about how rows parse rather than about the range.
fn in_range(sample: &str) -> String {
    sample.replace("1961", "2001")
}
const NS_OREF0: &str = include_str!("data/entries_oref0_examples_glucose.json");
const NS_IAPS: &str = include_str!("data/entries_iaps_excerpt_cgm_format.json");
const APPLE_DOGSHEEP: &str = include_str!("data/export_excerpt_dogsheep.xml");
const APPLE_GLUCOSE: &str = include_str!("data/export_glucose_sleep_diet.xml");

#[test]
fn clarity_12_column_sample() {
    let (records, findings) = run(
        Format::DexcomClarity,
        CLARITY_12.as_bytes(),
        chrono_tz::America::New_York,
    )
    .unwrap();
    let egv = count_rows(CLARITY_12, 2, "EGV");
    assert_eq!(egv, 2148);
    assert_eq!(glucose(&records).len(), egv);
    assert_eq!(records.len(), egv);
    assert_eq!(findings.rows, 2159);
    assert_eq!(findings.skipped.count(glucolens_importers::dexcom::METADATA), 11);
    assert_eq!(findings.skipped.total(), 11);
    let first = glucose(&records)[0];
    // 2016-10-24T11:24:17 in New York (EDT, UTC-4).
    assert_eq!(
        (first.time, first.value.get(), first.clipped),
        (utc("2016-10-24T15:24:17Z"), 103.0, false)
    );
    assert_eq!(first.device.as_deref(), Some("iPhone G6"));
}

#[test]
fn clarity_in_a_zone_whose_clock_fell_back_reports_the_ambiguous_hour() {
    // In Paris the clocks went back on 2016-10-30 at 03:00; the file has 12 readings between 02:00 and 02:59.
    let (records, findings) = run(Format::DexcomClarity, CLARITY_12.as_bytes(), chrono_tz::Europe::Paris).unwrap();
    assert_eq!(findings.adjusted.count(glucolens_importers::AMBIGUOUS_LOCAL_TIME), 12);
    let times: Vec<_> = glucose(&records).iter().map(|g| g.time).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "times stay strictly increasing");
}

#[test]
fn clarity_14_column_sample_with_a_double_encoded_bom() {
    let clarity_14 = in_range(CLARITY_14);
    let (records, findings) = run(Format::DexcomClarity, clarity_14.as_bytes(), chrono_tz::UTC).unwrap();
    let egv = count_rows(&clarity_14, 2, "EGV");
    let insulin = count_rows(&clarity_14, 2, "Insulin");
    assert_eq!((egv, insulin), (583, 6));
    assert_eq!(glucose(&records).len(), egv);
    assert_eq!(findings.skipped.count("insulin is not stored"), insulin as u64);
    assert_eq!(findings.skipped.count(glucolens_importers::dexcom::METADATA), 10);
    assert_eq!(glucose(&records)[0].time, utc("2001-04-12T00:56:47Z"));
}

#[test]
fn clarity_high_and_low_map_to_the_range_limits_with_the_flag() {
    let edited = CLARITY_12
        .replace(
            "2016-10-24T11:29:17,EGV,,,,iPhone G6,102",
            "2016-10-24T11:29:17,EGV,,,,iPhone G6,High",
        )
        .replace(
            "2016-10-24T11:34:17,EGV,,,,iPhone G6,100",
            "2016-10-24T11:34:17,EGV,,,,iPhone G6,Low",
        );
    let (records, findings) = run(Format::DexcomClarity, edited.as_bytes(), chrono_tz::UTC).unwrap();
    let readings = glucose(&records);
    assert_eq!((readings[1].value.get(), readings[1].clipped), (400.0, true));
    assert_eq!((readings[2].value.get(), readings[2].clipped), (40.0, true));
    assert_eq!(findings.adjusted.count(glucolens_importers::dexcom::HIGH_MAPPED), 1);
    assert_eq!(findings.adjusted.count(glucolens_importers::dexcom::LOW_MAPPED), 1);
    let report = serde_json::to_value(&findings).unwrap();
    assert_eq!(report["adjusted"][0]["lines"][0], 14);
}

#[test]
fn libreview_notes_sample_skips_every_note() {
    let (records, findings) = run(Format::Libreview, LIBRE_NOTES.as_bytes(), chrono_tz::Europe::Stockholm).unwrap();
    assert!(records.is_empty());
    let notes = count_rows(LIBRE_NOTES, 3, "6");
    assert_eq!(notes, 345);
    assert_eq!(
        findings.skipped.count("notes (record type 6) are not stored"),
        notes as u64
    );
}

#[test]
fn libreview_without_the_preamble_line_finds_its_header() {
    let (records, findings) = run(
        Format::Libreview,
        LIBRE_HISTORIC.as_bytes(),
        chrono_tz::Europe::Stockholm,
    )
    .unwrap();
    let readings = glucose(&records);
    assert_eq!(readings.len(), 6);
    // 05-12-2019 16:25 is 5 December (no day above 12: mmol/L means a European export), 6.3 mmol/L.
    assert_eq!(
        (readings[0].time, readings[0].value.get()),
        (utc("2019-12-05T15:25:00Z"), 113.5)
    );
    assert_eq!(readings[0].source, "libre");
    assert_eq!(
        findings
            .adjusted
            .count(glucolens_importers::libreview::DATE_ORDER_ASSUMED),
        1
    );
}

#[test]
fn libre_3_sample_in_mg_dl_with_historic_scan_and_notes() {
    let libre_3 = in_range(LIBRE_3);
    let (records, findings) = run(Format::Libreview, libre_3.as_bytes(), chrono_tz::UTC).unwrap();
    let readings = glucose(&records);
    let historic = count_rows(&libre_3, 3, "0");
    let scans = count_rows(&libre_3, 3, "1");
    assert_eq!((historic, scans), (300, 60));
    assert_eq!(readings.iter().filter(|g| g.source == "libre").count(), historic);
    assert_eq!(readings.iter().filter(|g| g.source == "libre_scan").count(), scans);
    assert_eq!(findings.skipped.count("notes (record type 6) are not stored"), 40);
    assert_eq!(
        (readings[0].time, readings[0].value.get()),
        (utc("2001-04-12T22:30:00Z"), 98.0)
    );
}

#[test]
fn nightscout_oref0_entries_with_local_offsets() {
    let (records, findings) = run(Format::NightscoutEntries, NS_OREF0.as_bytes(), chrono_tz::UTC).unwrap();
    let expected: Vec<serde_json::Value> = serde_json::from_str(NS_OREF0).unwrap();
    assert_eq!(glucose(&records).len(), expected.len());
    assert_eq!(findings.rows, expected.len() as u64);
    assert_eq!(glucose(&records)[0].time, utc("2018-06-02T07:25:00Z"));
    assert_eq!(glucose(&records)[0].value.get(), 101.0);
}

#[test]
fn nightscout_iaps_entries_keep_their_direction() {
    let (records, _) = run(Format::NightscoutEntries, NS_IAPS.as_bytes(), chrono_tz::UTC).unwrap();
    let expected: Vec<serde_json::Value> = serde_json::from_str(NS_IAPS).unwrap();
    let readings = glucose(&records);
    assert_eq!(readings.len(), expected.iter().filter(|e| e["type"] == "sgv").count());
    assert_eq!(readings.len(), 288);
    assert_eq!(readings[0].trend.as_deref(), Some("Flat"));
    assert_eq!(readings[0].time, utc("2026-04-05T20:30:29Z"));
}

#[test]
fn apple_health_excerpt_reads_its_workout_and_ignores_other_records() {
    let (records, findings) = run(Format::AppleHealth, APPLE_DOGSHEEP.as_bytes(), chrono_tz::UTC).unwrap();
    assert_eq!(findings.rows, 1);
    let [Record::Activity(run)] = records.as_slice() else {
        panic!("{records:?}")
    };
    assert_eq!(run.activity_type, "running");
    assert_eq!(run.duration_minutes, 5);
    assert_eq!(run.start_time, utc("2016-11-14T14:25:41Z"));
    // 48.745 kcal in the file, stored to 0.1.
    assert_eq!(run.calories, Some(48.7));
}

#[test]
fn apple_health_glucose_in_both_units_sleep_stages_and_meals() {
    let (records, findings) = run(Format::AppleHealth, APPLE_GLUCOSE.as_bytes(), chrono_tz::UTC).unwrap();
    let readings = glucose(&records);
    assert_eq!(
        readings.iter().map(|g| g.value.get()).collect::<Vec<_>>(),
        [97.3, 112.0, 140.0]
    );
    let sleeps: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Sleep(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(sleeps.len(), 2);
    assert_eq!(
        (sleeps[0].start_time, sleeps[0].end_time),
        (utc("2024-03-01T22:00:00Z"), utc("2024-03-02T06:00:00Z"))
    );
    assert_eq!(
        (
            sleeps[0].deep_minutes,
            sleeps[0].light_minutes,
            sleeps[0].rem_minutes,
            sleeps[0].awake_minutes
        ),
        (Some(90), Some(240), Some(100), Some(20))
    );
    let meals: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Meal(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(meals.len(), 2);
    assert_eq!((meals[0].carbs_g, meals[0].calories), (45.0, Some(520.0)));
    assert_eq!(
        findings
            .skipped
            .count("dietary energy without a carbohydrate entry at the same time"),
        1
    );
    let workouts: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Activity(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(workouts.len(), 1);
    assert_eq!(workouts[0].activity_type, "cycling");
    assert_eq!(workouts[0].calories, Some(310.0));
}

#[test]
fn truncated_and_mangled_files_are_errors() {
    let cut = |text: &str, keep: f64| text[..(text.len() as f64 * keep) as usize].to_owned();
    for (format, text) in [
        (Format::DexcomClarity, CLARITY_12),
        (Format::Libreview, LIBRE_3),
        (Format::NightscoutEntries, NS_IAPS),
        (Format::AppleHealth, APPLE_GLUCOSE),
    ] {
        // Cut inside a row, as an interrupted download or copy would.
        let mut truncated = cut(text, 0.6);
        while truncated.ends_with('\n') || truncated.ends_with(',') {
            truncated.pop();
        }
        truncated.truncate(truncated.rfind(',').unwrap_or(truncated.len()));
        let error = run(format, truncated.as_bytes(), chrono_tz::UTC).unwrap_err();
        assert!(matches!(error, ParseError::Corrupt { .. }), "{format:?}: {error}");
    }
    let error = run(Format::DexcomClarity, b"hello,world\n1,2\n", chrono_tz::UTC).unwrap_err();
    assert!(matches!(error, ParseError::Unrecognised { .. }), "{error}");
    let mut binary = CLARITY_14.as_bytes()[..2000].to_vec();
    binary.extend_from_slice(b"\xff\xfe\x00garbage");
    binary.extend_from_slice(&CLARITY_14.as_bytes()[2000..]);
    assert!(matches!(
        run(Format::DexcomClarity, &binary, chrono_tz::UTC).unwrap_err(),
        ParseError::Corrupt { .. }
    ));
}
