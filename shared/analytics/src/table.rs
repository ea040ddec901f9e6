//! The two tabular inputs of `glucolens analyze`: the daily table (`date,<var1>,<var2>,...`, one row per day, used
//! by PCMCI) and the item table (0/1 columns with an optional first `date` column, used by association rules).
//!
//! Parsing is pure (`&str` in, values out). Line numbers in errors are 1-based file lines; column numbers are
//! 1-based CSV columns (the `date` column, when present, is column 1).

use chrono::NaiveDate;
use ndarray::Array2;

use crate::{AnalyticsError, Result};

/// A daily table: `values[[t, k]]` is variable `variables[k]` on `dates[t]`. Missing cells (empty, `NA`, `NaN`,
/// `nan`) are kept as `f64::NAN`; the algorithm decides what to do with them (PCMCI refuses them).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyTable {
    pub dates: Vec<NaiveDate>,
    pub variables: Vec<String>,
    /// T × N, rows in file order.
    pub values: Array2<f64>,
}

impl DailyTable {
    /// Checks that the rows are strictly consecutive calendar days, so that "lag 1" means "the day before".
    /// Returns `InvalidInput` naming the first gap (or out-of-order/duplicate date).
    pub fn check_consecutive_days(&self) -> Result<()> {
        for pair in self.dates.windows(2) {
            if pair[1].signed_duration_since(pair[0]).num_days() != 1 {
                return Err(AnalyticsError::InvalidInput {
                    field: "date".into(),
                    reason: format!(
                        "rows must be consecutive days, but {} is followed by {} (fill the missing days or \
                         analyse a gap-free stretch)",
                        pair[0], pair[1]
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A 0/1 item table: `present[[t, k]]` says whether item `items[k]` occurred in transaction (row) `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemTable {
    /// The `date` column, when the file has one.
    pub dates: Option<Vec<NaiveDate>>,
    pub items: Vec<String>,
    /// rows × items.
    pub present: Array2<bool>,
}

/// The header's column names and the non-blank data rows with their 1-based line numbers.
type HeaderAndRows<'a> = (Vec<String>, Vec<(usize, &'a str)>);

fn header_and_rows<'a>(text: &'a str, what: &str) -> Result<HeaderAndRows<'a>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| AnalyticsError::InsufficientData {
        reason: format!("the {what} file is empty"),
    })?;
    let columns: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    for (index, name) in columns.iter().enumerate() {
        if name.is_empty() {
            return Err(AnalyticsError::Parse {
                line: 1,
                reason: format!("column {} has an empty name in the header", index + 1),
            });
        }
        if columns[..index].contains(name) {
            return Err(AnalyticsError::Parse {
                line: 1,
                reason: format!("column name `{name}` appears twice in the header"),
            });
        }
    }
    Ok((columns, lines.collect()))
}

fn split_row(line: usize, row: &str, expected: usize) -> Result<Vec<&str>> {
    let cells: Vec<&str> = row.split(',').map(str::trim).collect();
    if cells.len() != expected {
        return Err(AnalyticsError::Parse {
            line,
            reason: format!("expected {expected} columns like the header, found {}", cells.len()),
        });
    }
    Ok(cells)
}

fn parse_date(line: usize, cell: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(cell, "%Y-%m-%d").map_err(|_| AnalyticsError::Parse {
        line,
        reason: format!("column 1 (`date`): `{cell}` is not a date YYYY-MM-DD"),
    })
}

/// Parses the daily table `date,<var1>,<var2>,...` (header required; blank lines ignored). Every variable cell must
/// be a finite number or a missing marker (empty, `NA`, `NaN`, `nan`), which becomes `NaN`.
pub fn parse_daily_csv(text: &str) -> Result<DailyTable> {
    let (columns, rows) = header_and_rows(text, "daily")?;
    if columns[0] != "date" {
        return Err(AnalyticsError::Parse {
            line: 1,
            reason: format!("the first column must be `date`, found `{}`", columns[0]),
        });
    }
    if columns.len() < 2 {
        return Err(AnalyticsError::Parse {
            line: 1,
            reason: "the header has no variable columns after `date`".into(),
        });
    }
    if rows.is_empty() {
        return Err(AnalyticsError::InsufficientData {
            reason: "the daily file has no rows".into(),
        });
    }
    let n_vars = columns.len() - 1;
    let mut dates = Vec::with_capacity(rows.len());
    let mut values = Array2::<f64>::zeros((rows.len(), n_vars));
    for (t, (line, row)) in rows.iter().enumerate() {
        let cells = split_row(*line, row, columns.len())?;
        dates.push(parse_date(*line, cells[0])?);
        for (k, cell) in cells[1..].iter().enumerate() {
            values[[t, k]] = match *cell {
                "" | "NA" | "NaN" | "nan" | "NAN" => f64::NAN,
                text => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(AnalyticsError::Parse {
                            line: *line,
                            reason: format!(
                                "column {} (`{}`): `{text}` is not a finite number",
                                k + 2,
                                columns[k + 1]
                            ),
                        })
                    }
                },
            };
        }
    }
    Ok(DailyTable {
        dates,
        variables: columns[1..].to_vec(),
        values,
    })
}

/// Parses the item table: a header of item names (optionally preceded by a `date` column) and rows of `0`/`1`
/// cells. Any other cell is a `Parse` error naming its line and column.
pub fn parse_items_csv(text: &str) -> Result<ItemTable> {
    let (columns, rows) = header_and_rows(text, "item")?;
    let has_date = columns[0] == "date";
    let first_item = usize::from(has_date);
    if columns.len() <= first_item {
        return Err(AnalyticsError::Parse {
            line: 1,
            reason: "the header has no item columns".into(),
        });
    }
    let n_items = columns.len() - first_item;
    let mut dates = has_date.then(Vec::new);
    let mut present = Array2::<bool>::from_elem((rows.len(), n_items), false);
    for (t, (line, row)) in rows.iter().enumerate() {
        let cells = split_row(*line, row, columns.len())?;
        if let Some(dates) = dates.as_mut() {
            dates.push(parse_date(*line, cells[0])?);
        }
        for (k, cell) in cells[first_item..].iter().enumerate() {
            present[[t, k]] = match *cell {
                "1" => true,
                "0" => false,
                other => {
                    return Err(AnalyticsError::Parse {
                        line: *line,
                        reason: format!(
                            "column {} (`{}`): `{other}` is not 0 or 1",
                            first_item + k + 1,
                            columns[first_item + k]
                        ),
                    })
                }
            };
        }
    }
    Ok(ItemTable {
        dates,
        items: columns[first_item..].to_vec(),
        present,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_table_keeps_missing_cells_as_nan_and_checks_days() {
        let table = parse_daily_csv("date,a,b\n2025-01-01,1,2.5\n2025-01-02,,NA\n2025-01-04,3,4\n").unwrap();
        assert_eq!(table.variables, ["a", "b"]);
        assert_eq!(table.values[[0, 1]], 2.5);
        assert!(table.values[[1, 0]].is_nan() && table.values[[1, 1]].is_nan());
        assert!(matches!(
            table.check_consecutive_days(),
            Err(AnalyticsError::InvalidInput { .. })
        ));
        assert!(matches!(
            parse_daily_csv("date,a\n2025-01-01,x\n"),
            Err(AnalyticsError::Parse { line: 2, .. })
        ));
        assert!(matches!(
            parse_daily_csv("day,a\n2025-01-01,1\n"),
            Err(AnalyticsError::Parse { line: 1, .. })
        ));
    }

    #[test]
    fn item_table_with_and_without_dates() {
        let with = parse_items_csv("date,x,y\n2025-01-01,1,0\n2025-01-02,0,1\n").unwrap();
        assert_eq!(with.items, ["x", "y"]);
        assert!(with.present[[0, 0]] && with.present[[1, 1]] && !with.present[[0, 1]]);
        let without = parse_items_csv("x,y\n1,0\n").unwrap();
        assert!(without.dates.is_none());
        let err = parse_items_csv("date,x,y\n2025-01-01,1,0\n2025-01-02,0,2\n").unwrap_err();
        match err {
            AnalyticsError::Parse { line, reason } => {
                assert_eq!(line, 3);
                assert!(reason.contains("column 3"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
