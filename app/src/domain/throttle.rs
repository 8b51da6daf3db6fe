//! Login throttling: how many failed attempts are allowed, and for how long a client must
//! wait. The failures themselves live in the audit log, so the limit holds across restarts
//! and across server processes sharing one database.

use chrono::{DateTime, Duration, Utc};

/// Failed logins counted per username within the window.
pub const MAX_FAILURES_PER_USERNAME: usize = 5;
/// Failed logins counted per client IP within the window.
pub const MAX_FAILURES_PER_IP: usize = 20;
pub const WINDOW_MINUTES: i64 = 15;

pub fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVerdict {
    /// The attempt may proceed; `remaining` more failures are allowed for this username.
    Allowed { remaining: usize },
    /// Too many failures: retry after this many seconds (at least 1).
    Blocked { retry_after_secs: u64 },
}

/// Decides whether a login attempt may proceed, given the recent failures for the typed
/// username and for the client's IP (any order; older ones are ignored).
pub fn login_verdict(
    username_failures: &[DateTime<Utc>],
    ip_failures: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> LoginVerdict {
    let by_username = blocked_until(username_failures, MAX_FAILURES_PER_USERNAME, now);
    let by_ip = blocked_until(ip_failures, MAX_FAILURES_PER_IP, now);
    match by_username.max(by_ip) {
        Some(until) => LoginVerdict::Blocked {
            retry_after_secs: seconds_until(now, until),
        },
        None => LoginVerdict::Allowed {
            remaining: MAX_FAILURES_PER_USERNAME
                .saturating_sub(recent(username_failures, now).count()),
        },
    }
}

fn recent(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let since = now - window();
    failures
        .iter()
        .copied()
        .filter(move |at| *at > since && *at <= now)
}

/// With `limit` or more failures in the window, the client waits until enough of them age
/// out that one more attempt would be the `limit`-th again.
fn blocked_until(
    failures: &[DateTime<Utc>],
    limit: usize,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut recent: Vec<_> = recent(failures, now).collect();
    if recent.len() < limit {
        return None;
    }
    recent.sort_unstable_by(|a, b| b.cmp(a));
    // The newest `limit` failures block; the oldest of those frees a slot when it ages out.
    Some(recent[limit - 1] + window())
}

fn seconds_until(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    millis.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn five_failures_block_the_username_until_the_oldest_ages_out() {
        let failures: Vec<_> = (0..4).map(at).collect();
        assert_eq!(
            login_verdict(&failures, &[], at(5)),
            LoginVerdict::Allowed { remaining: 1 }
        );
        let failures: Vec<_> = (0..5).map(at).collect();
        assert_eq!(
            login_verdict(&failures, &[], at(5)),
            LoginVerdict::Blocked {
                retry_after_secs: 10 * 60
            }
        );
        // At minute 15 the first failure is out of the window: one attempt is allowed.
        assert_eq!(
            login_verdict(&failures, &[], at(15)),
            LoginVerdict::Allowed { remaining: 1 }
        );
    }

    #[test]
    fn the_newest_failures_decide_how_long_to_wait() {
        let failures: Vec<_> = [0, 1, 2, 10, 11, 12, 13].into_iter().map(at).collect();
        // Newest five: 2, 10, 11, 12, 13 → free again when minute 2 ages out (minute 17).
        assert_eq!(
            login_verdict(&failures, &[], at(14)),
            LoginVerdict::Blocked {
                retry_after_secs: 3 * 60
            }
        );
    }

    #[test]
    fn twenty_failures_from_one_ip_block_every_username() {
        let ip_failures: Vec<_> = (0..20).map(|i| at(0) + Duration::seconds(i)).collect();
        let verdict = login_verdict(&[], &ip_failures, at(1));
        assert_eq!(
            verdict,
            LoginVerdict::Blocked {
                retry_after_secs: 14 * 60
            }
        );
        assert_eq!(
            login_verdict(&[], &ip_failures[..19], at(1)),
            LoginVerdict::Allowed { remaining: 5 }
        );
    }

    #[test]
    fn old_and_future_failures_do_not_count() {
        let failures = [at(-30), at(-15), at(10)];
        assert_eq!(
            login_verdict(&failures, &[], at(0)),
            LoginVerdict::Allowed { remaining: 5 }
        );
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let failures: Vec<_> = (0..5).map(|_| at(0)).collect();
        let now = at(15) - Duration::milliseconds(1);
        assert_eq!(
            login_verdict(&failures, &[], now),
            LoginVerdict::Blocked {
                retry_after_secs: 1
            }
        );
    }
}
