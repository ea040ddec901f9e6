//! What a parse reports besides its records: rows it skipped and values it adjusted, each grouped by reason with
//! the first few line numbers so a user can find them in the file.

use std::collections::BTreeMap;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

/// How many line numbers are listed per reason; the count covers the rest.
const LINES_LISTED: usize = 10;

/// Rows per reason. Serialises as `[{reason, count, lines}]`, reasons in alphabetical order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(BTreeMap<String, Group>);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct Group {
    count: u64,
    lines: Vec<u64>,
}

impl Tally {
    /// Counts one row at `line` (a line number in CSV and XML files, a record number in JSON) under `reason`.
    pub fn add(&mut self, reason: impl Into<String>, line: u64) {
        let group = self.0.entry(reason.into()).or_default();
        group.count += 1;
        if group.lines.len() < LINES_LISTED {
            group.lines.push(line);
        }
    }

    /// Rows counted under `reason`.
    pub fn count(&self, reason: &str) -> u64 {
        self.0.get(reason).map_or(0, |g| g.count)
    }

    /// Rows counted under every reason.
    pub fn total(&self) -> u64 {
        self.0.values().map(|g| g.count).sum()
    }

    pub fn merge(&mut self, other: Tally) {
        for (reason, group) in other.0 {
            let mine = self.0.entry(reason).or_default();
            mine.count += group.count;
            let room = LINES_LISTED.saturating_sub(mine.lines.len());
            mine.lines.extend(group.lines.into_iter().take(room));
        }
    }
}

impl Serialize for Tally {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            reason: &'a str,
            count: u64,
            lines: &'a [u64],
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (reason, group) in &self.0 {
            seq.serialize_element(&Entry {
                reason,
                count: group.count,
                lines: &group.lines,
            })?;
        }
        seq.end()
    }
}

/// A parse's report: data rows read, rows skipped and values adjusted, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Data rows (CSV lines, JSON records, XML records of the imported types) read.
    pub rows: u64,
    pub skipped: Tally,
    /// Imported, but changed on the way: out-of-range markers mapped to a value, DST-ambiguous local times.
    pub adjusted: Tally,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_count_list_the_first_lines_and_serialise_as_a_list() {
        let mut tally = Tally::default();
        for line in 1..=12 {
            tally.add("insulin is not stored", line);
        }
        tally.add("calibration", 40);
        assert_eq!(tally.count("insulin is not stored"), 12);
        assert_eq!(tally.total(), 13);
        let json = serde_json::to_value(&tally).unwrap();
        assert_eq!(json[0]["reason"], "calibration");
        assert_eq!(json[1]["count"], 12);
        assert_eq!(json[1]["lines"].as_array().unwrap().len(), LINES_LISTED);
        let mut other = Tally::default();
        other.add("calibration", 41);
        tally.merge(other);
        assert_eq!(tally.count("calibration"), 2);
    }
}
