//! CSV plumbing shared by the Dexcom and LibreView parsers: rows with their line numbers, the header row found by
//! content rather than position, and the checks that turn a cut-off or mangled file into an error.

use std::io::Read;

use csv::StringRecord;

use crate::{rules, ParseError};

/// Rows read before giving up on finding the header (LibreView has 1–3 preamble lines, Dexcom none).
const HEADER_SEARCH_ROWS: usize = 20;

/// A CSV file being read row by row.
pub(crate) struct Table<R> {
    reader: csv::Reader<R>,
    format: &'static str,
    width: usize,
    /// The header's cells, to name the column of a cell that cannot be stored.
    columns: Vec<String>,
}

/// The header row's cells, cleaned of BOMs (also double-encoded ones) and stray quotes.
pub(crate) struct Header(Vec<String>);

impl Header {
    /// The first column whose name satisfies `matches`.
    pub(crate) fn find(&self, matches: impl Fn(&str) -> bool) -> Option<usize> {
        self.0.iter().position(|name| matches(name))
    }

    pub(crate) fn name(&self, column: usize) -> &str {
        &self.0[column]
    }
}

impl<R: Read> Table<R> {
    /// Reads rows until one satisfies `is_header`; returns the table positioned after it and the row count before.
    pub(crate) fn open(
        reader: R,
        format: &'static str,
        is_header: impl Fn(&Header) -> bool,
    ) -> Result<(Self, Header), ParseError> {
        let mut table = Table {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(reader),
            format,
            width: 0,
            columns: Vec::new(),
        };
        for _ in 0..HEADER_SEARCH_ROWS {
            let Some((_, row)) = table.next_row()? else { break };
            let header = Header(row.iter().map(clean_cell).collect());
            if is_header(&header) {
                table.width = header.0.len();
                table.columns = header.0.clone();
                return Ok((table, header));
            }
        }
        Err(ParseError::Unrecognised {
            format,
            reason: "no header row with the expected column names in the first lines".into(),
        })
    }

    /// The next non-empty row and its line number; after the header, every row must have the header's width.
    pub(crate) fn next_row(&mut self) -> Result<Option<(u64, StringRecord)>, ParseError> {
        let mut row = StringRecord::new();
        let more = self.reader.read_record(&mut row).map_err(|e| corrupt(&e))?;
        if !more {
            return Ok(None);
        }
        let line = row.position().map_or(0, |p| p.line());
        if self.width > 0 && row.len() != self.width {
            return Err(ParseError::Corrupt {
                line,
                reason: format!(
                    "{} fields where the {} header has {}",
                    row.len(),
                    self.format,
                    self.width
                ),
            });
        }
        // Any cell after the header: even a column that is not stored can reach a skip reason.
        if self.width > 0 {
            if let Some(column) = row.iter().position(|cell| rules::check_text(cell).is_err()) {
                return Err(ParseError::UnstorableText {
                    line,
                    field: rules::echo(&self.columns[column]),
                });
            }
        }
        Ok(Some((line, row)))
    }
}

fn corrupt(error: &csv::Error) -> ParseError {
    let line = error.position().map_or(0, |p| p.line());
    let reason = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "bytes that are not UTF-8 text".to_owned(),
        csv::ErrorKind::Io(e) => return ParseError::Io(std::io::Error::new(e.kind(), e.to_string())),
        _ => "malformed CSV".to_owned(),
    };
    ParseError::Corrupt { line, reason }
}

/// A header cell as a person reads it: without a UTF-8 BOM, its double-encoded form `ï»¿` (an Excel round-trip),
/// or the quotes such round-trips pile up.
pub(crate) fn clean_cell(raw: &str) -> String {
    raw.replace(['\u{feff}', '"'], "").replace("ï»¿", "").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_cells_lose_plain_and_double_encoded_boms() {
        assert_eq!(clean_cell("\u{feff}Index"), "Index");
        assert_eq!(clean_cell("\u{feff}\"ï»¿\"\"\"\"Index\"\"\"\"\""), "Index");
    }

    #[test]
    fn a_nul_in_any_cell_names_the_line_and_column() {
        let data = "A,B\n1,2\n3,x\u{0}y\n";
        let (mut table, _) = Table::open(data.as_bytes(), "test", |h| h.find(|c| c == "B").is_some()).unwrap();
        assert!(table.next_row().unwrap().is_some());
        let error = table.next_row().unwrap_err();
        assert!(
            matches!(&error, ParseError::UnstorableText { line: 3, field } if field == "B"),
            "{error}"
        );
    }

    #[test]
    fn a_short_row_after_the_header_is_corruption() {
        let data = "junk\nA,B,C\n1,2,3\n4,5\n";
        let (mut table, header) = Table::open(data.as_bytes(), "test", |h| h.find(|c| c == "B").is_some()).unwrap();
        assert_eq!(header.find(|c| c == "C"), Some(2));
        assert_eq!(table.next_row().unwrap().unwrap().0, 3);
        let error = table.next_row().unwrap_err();
        assert!(matches!(error, ParseError::Corrupt { line: 4, .. }), "{error}");
    }
}
