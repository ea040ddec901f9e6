//! What every batch insert reports, and the in-batch duplicate count it needs.
//!
//! Batch inserts send the whole batch in one statement (`INSERT ... SELECT FROM UNNEST(arrays) ON CONFLICT DO
//! NOTHING`): a record whose natural key is already stored, or repeated earlier in the same batch, is skipped, so
//! concurrent identical uploads can never duplicate rows. `rows_affected` is then the number of new rows.
//! Rows are inserted in key order (`ORDER BY` the natural key), so concurrent batches that overlap in any order
//! wait for each other's keys in the same order and cannot deadlock.

use serde::Serialize;

/// How many records of a batch were new and how many were already stored. Duplicates inside one batch count once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InsertCounts {
    pub inserted: u64,
    pub already_present: u64,
}

impl InsertCounts {
    /// Counts for a batch of `distinct_keys` distinct records of which `inserted` were new.
    pub(crate) fn of(distinct_keys: usize, inserted: u64) -> Self {
        Self {
            inserted,
            already_present: (distinct_keys as u64).saturating_sub(inserted),
        }
    }
}

impl std::ops::Add for InsertCounts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            inserted: self.inserted + other.inserted,
            already_present: self.already_present + other.already_present,
        }
    }
}

/// Number of distinct keys. Device data usually arrives in strictly increasing key order, which is checked in one
/// pass without allocating; only otherwise are the keys collected and sorted.
pub(crate) fn distinct_count<K: Ord>(keys: impl Iterator<Item = K> + Clone) -> usize {
    let mut previous: Option<K> = None;
    let mut count = 0;
    for key in keys.clone() {
        if previous.as_ref().is_some_and(|p| *p >= key) {
            let mut all: Vec<K> = keys.collect();
            all.sort_unstable();
            all.dedup();
            return all.len();
        }
        previous = Some(key);
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_count_handles_sorted_unsorted_and_repeated_keys() {
        assert_eq!(distinct_count([1, 2, 3].iter()), 3);
        assert_eq!(distinct_count([3, 1, 2].iter()), 3);
        assert_eq!(distinct_count([1, 2, 2, 3, 1].iter()), 3);
        assert_eq!(distinct_count(std::iter::empty::<u8>()), 0);
    }

    #[test]
    fn counts_add_and_never_underflow() {
        assert_eq!(
            InsertCounts::of(3, 1) + InsertCounts::of(2, 2),
            InsertCounts {
                inserted: 3,
                already_present: 2
            }
        );
        assert_eq!(InsertCounts::of(0, 0).already_present, 0);
    }
}
