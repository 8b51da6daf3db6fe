//! Read models: what the signed-in pages compute from data that changes a few times a day
//! (the team's reminder plan, the team's month grid), kept in this process's memory and
//! keyed by the database's data version.
//!
//! The version is one row (`data_version`) that triggers bump in the same transaction as
//! every write to what these models are made of (migration m20261208_000009):
//!
//! | table | what changes |
//! |---|---|
//! | schedules | who works which shift when |
//! | shifts | a shift's times, reminders, follow-ups, name |
//! | users (names, contacts, role, active, reminders on/off) | who is reminded and how |
//! | channels, channel_preferences | where a reminder would go |
//! | setting | skipping holidays, follow-ups, sending on/off, … |
//! | holiday_days, company_days | the work calendar |
//! | requests | approved leave and swaps |
//!
//! Deliveries, punches, one-click skips, sessions and the audit log are not versioned:
//! pages read them live. A request reads the version (one lookup by primary key) before
//! anything else and serves what was built for it or a newer one; otherwise it builds from
//! reads made after that lookup, so a build may already include a later write (and is
//! rebuilt at the next version) but never misses one that came before. Every process on the
//! database sees a commit's version at once: replicas on PostgreSQL and processes on one
//! SQLite file agree without telling each other.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Statement};

use super::reminders::views::TeamPlan;
use crate::AppError;
use crate::wire::{CalendarData, ScheduleEntry};

/// The database's data version: moves with every committed write the read models depend
/// on.
pub async fn data_version(db: &impl ConnectionTrait) -> Result<i64, AppError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM data_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| {
            tracing::error!("the data_version row is missing (migrations not applied?)");
            AppError::Internal
        })?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Plans kept: the home page's today-and-tomorrow, the preview's default week, and one more.
const PLANS_KEPT: usize = 3;
/// Team month grids kept: this month, the next and the previous.
const GRIDS_KEPT: usize = 3;
/// The whole team's schedule entries for a range of up to 62 days (`GET /api/v1/schedules`
/// without `user_id`): two ranges kept, at most 62 days × people entries each.
const ENTRY_LISTS_KEPT: usize = 2;

/// This process's read models.
pub struct ReadModels {
    /// The whole team's reminder plan (everyone, active or not) for a date range.
    pub plans: Kept<(NaiveDate, NaiveDate), TeamPlan>,
    /// The team grid of all active people for a range, as an admin sees it: the range's
    /// first day and last day and today (which the grid marks).
    pub team_grids: Kept<(NaiveDate, NaiveDate, NaiveDate), CalendarData>,
    /// The whole team's schedule entries for a range.
    pub team_entries: Kept<(NaiveDate, NaiveDate), Vec<ScheduleEntry>>,
}

impl Default for ReadModels {
    fn default() -> Self {
        Self {
            plans: Kept::new(PLANS_KEPT),
            team_grids: Kept::new(GRIDS_KEPT),
            team_entries: Kept::new(ENTRY_LISTS_KEPT),
        }
    }
}

/// Values built from the database, each kept while no newer data version is seen; at most
/// `capacity` of them, the least recently used leaving first.
pub struct Kept<K, V> {
    capacity: usize,
    entries: tokio::sync::Mutex<VecDeque<Entry<K, V>>>,
}

struct Entry<K, V> {
    version: i64,
    key: K,
    value: Arc<V>,
}

impl<K: PartialEq, V> Kept<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: tokio::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// The value for `key` built at `version` or later, or `build`'s, kept. Builds run one
    /// at a time: 64 requests arriving after a write wait for one build instead of making
    /// 64.
    pub async fn get_or_build<F, Fut>(
        &self,
        version: i64,
        key: K,
        build: F,
    ) -> Result<Arc<V>, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, AppError>>,
    {
        let mut entries = self.entries.lock().await;
        if let Some(at) = entries
            .iter()
            .position(|entry| entry.key == key && entry.version >= version)
        {
            let entry = entries.remove(at).expect("the position just found");
            let value = entry.value.clone();
            entries.push_front(entry);
            return Ok(value);
        }
        let value = Arc::new(build().await?);
        // Anything built before this version is out of date for every key.
        entries.retain(|entry| entry.version >= version && entry.key != key);
        entries.push_front(Entry {
            version,
            key,
            value: value.clone(),
        });
        entries.truncate(self.capacity);
        Ok(value)
    }

    /// How many values are kept (tests, diagnostics).
    pub async fn kept(&self) -> usize {
        self.entries.lock().await.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn get(kept: &Kept<u8, String>, builds: &AtomicUsize, version: i64, key: u8) -> String {
        let value = kept
            .get_or_build(version, key, || async {
                builds.fetch_add(1, Ordering::SeqCst);
                Ok(format!("{key}@{version}"))
            })
            .await
            .expect("built");
        (*value).clone()
    }

    #[tokio::test]
    async fn a_value_is_built_once_per_version_and_key() {
        let kept = Kept::new(3);
        let builds = AtomicUsize::new(0);
        assert_eq!(get(&kept, &builds, 1, 7).await, "7@1");
        assert_eq!(get(&kept, &builds, 1, 7).await, "7@1");
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(get(&kept, &builds, 1, 8).await, "8@1");
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_newer_version_replaces_everything_built_before_it() {
        let kept = Kept::new(3);
        let builds = AtomicUsize::new(0);
        get(&kept, &builds, 1, 7).await;
        get(&kept, &builds, 1, 8).await;
        assert_eq!(get(&kept, &builds, 2, 7).await, "7@2");
        // The other key's value was from before version 2: gone, not served.
        assert_eq!(kept.kept().await, 1);
        assert_eq!(get(&kept, &builds, 2, 8).await, "8@2");
        assert_eq!(builds.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_request_that_read_an_older_version_is_served_the_newer_value() {
        let kept = Kept::new(3);
        let builds = AtomicUsize::new(0);
        get(&kept, &builds, 5, 7).await;
        assert_eq!(get(&kept, &builds, 4, 7).await, "7@5");
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn at_most_capacity_values_are_kept_least_recently_used_first_out() {
        let kept = Kept::new(2);
        let builds = AtomicUsize::new(0);
        get(&kept, &builds, 1, 1).await;
        get(&kept, &builds, 1, 2).await;
        get(&kept, &builds, 1, 1).await;
        get(&kept, &builds, 1, 3).await;
        assert_eq!(kept.kept().await, 2);
        // 1 was used more recently than 2: 2 left.
        get(&kept, &builds, 1, 1).await;
        assert_eq!(builds.load(Ordering::SeqCst), 3);
        get(&kept, &builds, 1, 2).await;
        assert_eq!(builds.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_build_keeps_nothing() {
        let kept: Kept<u8, String> = Kept::new(2);
        let failed = kept
            .get_or_build(1, 1, || async { Err(AppError::Internal) })
            .await;
        assert!(failed.is_err());
        assert_eq!(kept.kept().await, 0);
    }
}
