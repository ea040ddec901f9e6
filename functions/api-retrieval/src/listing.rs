//! Listing a kind of record, shared by every list route (`/glucose/readings`, `/sleep`, `/activities`, `/meals`):
//! the query parameters, their validation, and the two ways of reading — a time range one page at a time, or the
//! change feed since an anchor (`updated_since`) with deletions as tombstones, the way HealthKit's anchored
//! queries work.

use chrono::{DateTime, Utc};
use glucolens_app::records::{self as edits, FeedCursor};
use glucolens_domain::{parse_time_range, parse_timestamp, FieldError, MAX_QUERY_DAYS};
use glucolens_store::records::{self, Change, PagePosition, RecordTable};
use glucolens_web::reader::Access;
use glucolens_web::{ApiError, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_PAGE_SIZE: i64 = 1000;
const MAX_PAGE_SIZE: i64 = 5000;

/// Either a time range (`start` and `end`) or the changes since an anchor (`updated_since`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Start of the range, inclusive: RFC 3339 with an offset or `Z`, e.g. `2025-03-01T00:00:00+01:00`. Required
    /// unless `updated_since` is given.
    #[param(value_type = Option<String>, format = DateTime)]
    start: Option<String>,
    /// End of the range, exclusive; after `start` and at most 92 days later. Required unless `updated_since` is
    /// given.
    #[param(value_type = Option<String>, format = DateTime)]
    end: Option<String>,
    /// Incremental sync: return what was added, corrected or deleted at or after this instant instead of a range
    /// (deletions in `deleted`). Start with `1970-01-01T00:00:00Z` for everything; the last page's
    /// `next_updated_since` is the anchor for the next sync. A record may come twice across syncs; apply changes
    /// by `id`. Not combined with `start`/`end`.
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// Page size, 1–5000 (default 1000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 5000)]
    limit: Option<String>,
    /// `next_cursor` of the previous page, to continue after it (with the same other parameters).
    cursor: Option<String>,
}

/// What a validated query asks for.
#[derive(Debug, PartialEq)]
pub enum Listing {
    Range {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after: Option<PagePosition>,
    },
    Changes {
        since: DateTime<Utc>,
        cursor: Option<FeedCursor>,
    },
}

#[derive(Debug, PartialEq)]
pub struct ListRequest {
    pub listing: Listing,
    pub limit: i64,
}

impl ListQuery {
    /// Checks every parameter and reports all problems at once.
    pub fn validate(&self) -> Result<ListRequest, ApiError> {
        let mut errors = Vec::new();
        let listing = match &self.updated_since {
            Some(raw) => self.changes(raw, &mut errors),
            None => self.range(&mut errors),
        };
        let limit = match self.limit.as_deref().map(str::parse::<i64>) {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(Ok(limit)) if (1..=MAX_PAGE_SIZE).contains(&limit) => Some(limit),
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("`limit` must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                ));
                None
            }
        };
        match (listing, limit) {
            (Some(listing), Some(limit)) if errors.is_empty() => Ok(ListRequest { listing, limit }),
            _ => Err(ApiError::Validation(errors)),
        }
    }

    fn changes(&self, raw: &str, errors: &mut Vec<FieldError>) -> Option<Listing> {
        for (field, given) in [("start", &self.start), ("end", &self.end)] {
            if given.is_some() {
                errors.push(FieldError::new(
                    field,
                    "not_with_updated_since",
                    format!("`{field}` cannot be combined with `updated_since`: a sync returns every change"),
                ));
            }
        }
        let since = parse_timestamp("updated_since", raw).map_err(|e| errors.push(e)).ok();
        let cursor = self
            .cursor
            .as_deref()
            .map(FeedCursor::decode)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok();
        Some(Listing::Changes {
            since: since?,
            cursor: cursor?,
        })
    }

    fn range(&self, errors: &mut Vec<FieldError>) -> Option<Listing> {
        let range = parse_time_range(
            self.start.as_deref(),
            self.end.as_deref(),
            MAX_QUERY_DAYS,
            " (or `updated_since` for a sync)",
            errors,
        );
        let after = self
            .cursor
            .as_deref()
            .map(edits::decode_page_cursor)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok();
        let ((start, end), after) = (range?, after?);
        Some(Listing::Range { start, end, after })
    }
}

/// A deleted record, in a sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tombstone {
    pub id: i64,
    pub deleted_at: DateTime<Utc>,
}

/// One page of records, by range or as a sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordPage<I> {
    /// By range: ordered by time, then id. In a sync: the records added or corrected, in the order they changed.
    pub items: Vec<I>,
    /// In a sync only: records deleted since `updated_since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Vec<Tombstone>>,
    /// Pass as `cursor` (with the same other parameters) for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// In a sync, on its last page: the `updated_since` of the next sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_updated_since: Option<DateTime<Utc>>,
}

impl<R> RecordPage<R> {
    /// The same page with each record shown as `item` shows it.
    pub fn map<I>(self, item: impl FnMut(R) -> I) -> RecordPage<I> {
        RecordPage {
            items: self.items.into_iter().map(item).collect(),
            deleted: self.deleted,
            next_cursor: self.next_cursor,
            next_updated_since: self.next_updated_since,
        }
    }
}

/// The page `request` asks for, of the records of kind `T` of the owner `reader` reads (the caller audits the read).
pub async fn list<T: RecordTable>(
    state: &AppState,
    reader: &Access,
    request: ListRequest,
) -> Result<RecordPage<T>, ApiError> {
    let limit = request.limit;
    match request.listing {
        Listing::Range { start, end, after } => {
            // One row beyond the page tells whether another page follows.
            let mut rows = records::page::<T>(&state.db, reader.owner_id, start, end, after, limit + 1).await?;
            let has_more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = has_more.then(|| rows.last()).flatten().map(|last| {
                edits::encode_page_cursor(PagePosition {
                    time: last.time(),
                    id: last.id(),
                })
            });
            Ok(RecordPage {
                items: rows,
                deleted: None,
                next_cursor,
                next_updated_since: None,
            })
        }
        Listing::Changes { since, cursor } => {
            let page = edits::feed::<T>(&state.db, reader.owner_id, since, cursor, limit).await?;
            let (mut items, mut deleted) = (Vec::new(), Vec::new());
            for change in page.changes {
                match change {
                    Change::Upserted(row) => items.push(row),
                    Change::Deleted { id, deleted_at } => deleted.push(Tombstone { id, deleted_at }),
                }
            }
            Ok(RecordPage {
                items,
                deleted: Some(deleted),
                next_cursor: page.next_cursor.map(|c| c.encode()),
                next_updated_since: page.next_updated_since,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(start: Option<&str>, end: Option<&str>, since: Option<&str>, limit: Option<&str>) -> ListQuery {
        ListQuery {
            start: start.map(Into::into),
            end: end.map(Into::into),
            updated_since: since.map(Into::into),
            limit: limit.map(Into::into),
            cursor: None,
        }
    }

    fn codes(query: ListQuery) -> Vec<&'static str> {
        match query.validate() {
            Err(ApiError::Validation(errors)) => errors.iter().map(|e| e.code).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn a_range_gets_the_default_page_size() {
        let request = query(
            Some("2025-03-01T00:00:00+01:00"),
            Some("2025-03-02T00:00:00Z"),
            None,
            None,
        )
        .validate()
        .unwrap();
        assert_eq!(request.limit, DEFAULT_PAGE_SIZE);
        let Listing::Range { start, after, .. } = request.listing else {
            panic!("a range")
        };
        assert_eq!(
            (start.to_rfc3339().as_str(), after),
            ("2025-02-28T23:00:00+00:00", None)
        );
    }

    #[test]
    fn a_sync_needs_only_its_anchor() {
        let request = query(None, None, Some("1970-01-01T00:00:00Z"), Some("10"))
            .validate()
            .unwrap();
        assert_eq!(
            request,
            ListRequest {
                listing: Listing::Changes {
                    since: DateTime::UNIX_EPOCH,
                    cursor: None
                },
                limit: 10
            }
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let (a, b) = (Some("2025-03-02T00:00:00Z"), Some("2025-03-01T00:00:00Z"));
        assert_eq!(codes(query(a, b, None, None)), ["invalid_range"]);
        assert_eq!(
            codes(query(
                Some("2025-01-01T00:00:00Z"),
                Some("2025-04-03T00:00:01Z"),
                None,
                None
            )),
            ["range_too_long"]
        );
        assert_eq!(
            codes(ListQuery {
                cursor: Some("!!".into()),
                ..query(Some("2025-03-01"), Some("2025-03-02T00:00:00"), None, Some("0"))
            }),
            [
                "invalid_timestamp",
                "invalid_timestamp",
                "invalid_cursor",
                "out_of_range"
            ]
        );
        assert_eq!(
            codes(query(None, None, None, Some("5001"))),
            ["required", "required", "out_of_range"]
        );
        assert_eq!(
            codes(query(a, None, Some("yesterday"), None)),
            ["not_with_updated_since", "invalid_timestamp"]
        );
    }
}
