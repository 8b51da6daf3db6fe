//! Password checks still running, counted in memory so the throttle sees them.
//!
//! An attempt is reserved *before* the throttle reads the failures from the audit log and
//! released only *after* its own failure is written there. Every earlier admitted attempt
//! is therefore counted at least once (in memory or in the log) by every later one, so a
//! burst sent at once gets no more checks than the limit. Several server processes sharing
//! one database each count their own running attempts; their failures are shared through
//! the log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::AppError;
use crate::domain::throttle::InFlight;

/// Attempts running at once across the server, keeping the table small; beyond it the
/// server is too busy anyway (the hashing queue is far shorter).
const MAX_RUNNING: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, Option<IpAddr>),
    Address(Option<IpAddr>),
    Username(String),
    PasswordChange(i32),
}

#[derive(Debug, Default)]
struct Table {
    running: usize,
    /// Keys with at least one running attempt; entries are removed at zero.
    counts: HashMap<Key, usize>,
}

#[derive(Debug, Default)]
pub struct RunningAttempts {
    table: Mutex<Table>,
}

/// A reserved attempt; dropping it (also when the request is cancelled) releases it.
#[derive(Debug)]
pub struct Reservation {
    attempts: Arc<RunningAttempts>,
    keys: Vec<Key>,
}

impl RunningAttempts {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // Counts stay consistent under a panic elsewhere: each update is a single step.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn reserve(self: &Arc<Self>, keys: Vec<Key>) -> Result<(Reservation, Vec<usize>), AppError> {
        let mut table = self.lock();
        if table.running >= MAX_RUNNING {
            return Err(AppError::Busy {
                retry_after_secs: 1,
            });
        }
        table.running += 1;
        let others = keys
            .iter()
            .map(|key| {
                let count = table.counts.entry(key.clone()).or_insert(0);
                *count += 1;
                *count - 1
            })
            .collect();
        Ok((
            Reservation {
                attempts: Arc::clone(self),
                keys,
            },
            others,
        ))
    }

    /// Reserves a login attempt for `username_key` from `ip`; returns the attempts of
    /// other requests already running for the same username and address, address, and
    /// username.
    pub fn reserve_login(
        self: &Arc<Self>,
        username_key: &str,
        ip: Option<IpAddr>,
    ) -> Result<(Reservation, InFlight), AppError> {
        let (reservation, others) = self.reserve(vec![
            Key::Pair(username_key.to_owned(), ip),
            Key::Address(ip),
            Key::Username(username_key.to_owned()),
        ])?;
        let in_flight = InFlight {
            pair: others[0],
            address: others[1],
            username: others[2],
        };
        Ok((reservation, in_flight))
    }

    /// Reserves a check of `user_id`'s current password; returns how many others run.
    pub fn reserve_password_change(
        self: &Arc<Self>,
        user_id: i32,
    ) -> Result<(Reservation, usize), AppError> {
        let (reservation, others) = self.reserve(vec![Key::PasswordChange(user_id)])?;
        Ok((reservation, others[0]))
    }

    /// How many keys are tracked (for tests: the table empties when nothing runs).
    pub fn tracked_keys(&self) -> usize {
        self.lock().counts.len()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut table = self.attempts.lock();
        table.running = table.running.saturating_sub(1);
        for key in &self.keys {
            if let Some(count) = table.counts.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    table.counts.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_count_others_and_empty_the_table_when_released() {
        let attempts = Arc::new(RunningAttempts::default());
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        let other_ip: Option<IpAddr> = "10.0.0.2".parse().ok();
        let (first, seen) = attempts.reserve_login("admin", ip).unwrap();
        assert_eq!(seen, InFlight::default());
        let (second, seen) = attempts.reserve_login("admin", other_ip).unwrap();
        assert_eq!(
            seen,
            InFlight {
                pair: 0,
                address: 0,
                username: 1
            }
        );
        let (third, seen) = attempts.reserve_login("bob", ip).unwrap();
        assert_eq!(
            seen,
            InFlight {
                pair: 0,
                address: 1,
                username: 0
            }
        );
        let (fourth, seen) = attempts.reserve_login("admin", ip).unwrap();
        assert_eq!(
            seen,
            InFlight {
                pair: 1,
                address: 2,
                username: 2
            }
        );
        let (change, seen) = attempts.reserve_password_change(7).unwrap();
        assert_eq!(seen, 0);
        drop((first, second, third, fourth, change));
        assert_eq!(attempts.tracked_keys(), 0);
        assert_eq!(attempts.lock().running, 0);
    }

    #[test]
    fn too_many_running_attempts_are_refused_as_busy() {
        let attempts = Arc::new(RunningAttempts::default());
        let held: Vec<_> = (0..MAX_RUNNING)
            .map(|n| attempts.reserve_login(&format!("user{n}"), None).unwrap())
            .collect();
        assert!(matches!(
            attempts.reserve_login("one-more", None),
            Err(AppError::Busy { .. })
        ));
        drop(held);
        assert!(attempts.reserve_login("one-more", None).is_ok());
        assert_eq!(attempts.tracked_keys(), 0);
    }
}
