//! CGM traces as the analytics see them: timestamped mg/dL values, parsed from the `timestamp,value` CSV
//! that `glucolens analyze` reads (ISO-8601 with an offset or `Z`).

use chrono::{DateTime, FixedOffset};

use crate::{AnalyticsError, Result};

/// One sensor reading: the instant it was taken (with the offset it was written with) and its value in mg/dL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgmPoint {
    pub time: DateTime<FixedOffset>,
    pub mg_dl: f64,
}

/// Parses a `timestamp,value` CSV (header required, blank lines ignored). Rows keep file order; duplicates are kept,
/// because iglu counts them and each algorithm decides for itself.
pub fn parse_cgm_csv(text: &str) -> Result<Vec<CgmPoint>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| AnalyticsError::InsufficientData {
        reason: "the CGM file is empty".into(),
    })?;
    let columns: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    if columns != ["timestamp", "value"] {
        return Err(AnalyticsError::Parse {
            line: 1,
            // Only the start of the line: a wrong file (say a JSON document) can be one enormous line.
            reason: format!(
                "expected the header `timestamp,value`, found `{}`",
                header.trim().chars().take(80).collect::<String>()
            ),
        });
    }
    let points = lines
        .map(|(index, line)| parse_row(index + 1, line))
        .collect::<Result<Vec<_>>>()?;
    if points.is_empty() {
        return Err(AnalyticsError::InsufficientData {
            reason: "the CGM file has no readings".into(),
        });
    }
    Ok(points)
}

fn parse_row(line: usize, row: &str) -> Result<CgmPoint> {
    let parse_error = |reason: String| AnalyticsError::Parse { line, reason };
    let (timestamp, value) = row
        .split_once(',')
        .ok_or_else(|| parse_error("expected two columns `timestamp,value`".into()))?;
    let time = DateTime::parse_from_rfc3339(timestamp.trim()).map_err(|e| {
        parse_error(format!(
            "timestamp `{}` is not ISO-8601 with an offset: {e}",
            timestamp.trim()
        ))
    })?;
    let mg_dl: f64 = value
        .trim()
        .parse()
        .map_err(|_| parse_error(format!("value `{}` is not a number", value.trim())))?;
    if !mg_dl.is_finite() {
        return Err(parse_error(format!("value `{}` is not a finite number", value.trim())));
    }
    Ok(CgmPoint { time, mg_dl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_with_offsets_and_keeps_duplicates() {
        let points =
            parse_cgm_csv("timestamp,value\n2025-01-01T00:00:00Z,140.3\n2025-01-01T01:00:00+01:00,141\n").unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].time, points[1].time);
        assert_eq!(points[1].mg_dl, 141.0);
    }

    #[test]
    fn rejects_bad_header_rows_and_empty_files() {
        assert!(matches!(
            parse_cgm_csv("time,glucose\n"),
            Err(AnalyticsError::Parse { line: 1, .. })
        ));
        assert!(matches!(
            parse_cgm_csv("timestamp,value\n2025-01-01 00:00,1\n"),
            Err(AnalyticsError::Parse { line: 2, .. })
        ));
        assert!(matches!(
            parse_cgm_csv("timestamp,value\n"),
            Err(AnalyticsError::InsufficientData { .. })
        ));
    }
}
