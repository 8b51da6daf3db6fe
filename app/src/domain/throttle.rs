//! Throttling password guesses without locking the owner out.
//!
//! The failures live in the audit log, so the limits hold across restarts and across
//! server processes sharing one database. Attempts still being checked are counted too
//! (the caller passes them as [`InFlight`], each counted as a failure happening now), so a
//! burst sent at once cannot slip past a limit while the first hashes run.
//!
//! The rule, within a sliding window of [`WINDOW_MINUTES`]:
//! 1. **One username from one address**: after [`MAX_FAILURES_PER_USERNAME_AND_ADDRESS`]
//!    failures that address must wait until the oldest of them leaves the window. A
//!    successful login of the username starts its count afresh.
//! 2. **One address, any usernames**: after [`MAX_FAILURES_PER_ADDRESS`] failures the address
//!    waits likewise. Successes do not reset it (an attacker with one account of their own
//!    could otherwise reset it at will).
//! 3. **One username from all addresses** (guessing spread over many addresses): no lockout,
//!    a slowdown. From the [`SLOWDOWN_AFTER_USERNAME_FAILURES`]-th failure since the
//!    username's last successful login, each further attempt must come at least
//!    2^(n − 10) seconds after the username's latest failure (n = its failures in the
//!    window), at most [`MAX_SLOWDOWN_SECS`]. It never keeps the owner out:
//!    - an address where the username has signed in before (a *known address*) is exempt;
//!    - an address that has not failed for the username in the window (a *new address*,
//!      e.g. the owner travelling) waits at most [`NEW_ADDRESS_MAX_SLOWDOWN_SECS`] after the
//!      latest failure, so keeping the owner out there takes a fresh failing address every
//!      few seconds, and each such address has had its one guess.
//!
//! One address failing five times (rule 1) does not slow the username down elsewhere:
//! the slowdown starts only after two addresses' worth of failures.

use chrono::{DateTime, Duration, Utc};

/// Failed logins allowed for one username from one address within the window.
pub const MAX_FAILURES_PER_USERNAME_AND_ADDRESS: usize = 5;
/// Failed logins allowed from one address, for any usernames, within the window.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Failures of one username (from all addresses) after which attempts are slowed down.
pub const SLOWDOWN_AFTER_USERNAME_FAILURES: usize = 2 * MAX_FAILURES_PER_USERNAME_AND_ADDRESS;
/// The longest slowdown for one username.
pub const MAX_SLOWDOWN_SECS: u64 = 15 * 60;
/// The longest slowdown for an address that has not failed for the username.
pub const NEW_ADDRESS_MAX_SLOWDOWN_SECS: u64 = 10;
/// Failed current passwords allowed per user within the window when changing a password.
pub const MAX_PASSWORD_CHANGE_FAILURES: usize = 5;
/// How long to wait when only attempts still being checked fill a limit: they settle
/// within a second or two.
pub const IN_FLIGHT_RETRY_SECS: u64 = 1;
pub const WINDOW_MINUTES: i64 = 15;

pub fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

/// Attempts by other requests that are still being checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    /// For this username from this address.
    pub pair: usize,
    /// From this address, any username.
    pub address: usize,
    /// For this username, any address.
    pub username: usize,
}

/// What is known about earlier attempts when a login arrives. Failure times may come in
/// any order; those outside the window are ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginHistory<'a> {
    /// Failures for this username from this address since the username's last success.
    pub pair_failures: &'a [DateTime<Utc>],
    /// Failures from this address for any username.
    pub address_failures: &'a [DateTime<Utc>],
    /// Failures for this username from any address since its last success.
    pub username_failures: &'a [DateTime<Utc>],
    pub in_flight: InFlight,
    /// Whether the username has signed in successfully from this address before.
    pub known_address: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVerdict {
    /// The attempt may proceed; after a failure `remaining` more are allowed for this
    /// username from this address (0 when this is the last one).
    Allowed { remaining: usize },
    /// Too many failures: retry after this many seconds (at least 1).
    Blocked { retry_after_secs: u64 },
}

/// Decides whether a login attempt may proceed (the rule in the module documentation).
pub fn login_verdict(history: &LoginHistory<'_>, now: DateTime<Utc>) -> LoginVerdict {
    let waits = [
        limit_wait(
            history.pair_failures,
            history.in_flight.pair,
            MAX_FAILURES_PER_USERNAME_AND_ADDRESS,
            now,
        ),
        limit_wait(
            history.address_failures,
            history.in_flight.address,
            MAX_FAILURES_PER_ADDRESS,
            now,
        ),
        slowdown_wait(history, now),
    ];
    match waits.into_iter().flatten().max() {
        Some(retry_after_secs) => LoginVerdict::Blocked { retry_after_secs },
        None => LoginVerdict::Allowed {
            remaining: MAX_FAILURES_PER_USERNAME_AND_ADDRESS
                .saturating_sub(recent(history.pair_failures, now).count() + 1),
        },
    }
}

/// Whether a client may present a secret that is not a password (a bearer token) given
/// its address's recent failures: the per-address limit alone. Such checks are cheap
/// lookups, so no attempts are running long enough to count.
pub fn address_verdict(address_failures: &[DateTime<Utc>], now: DateTime<Utc>) -> LoginVerdict {
    match limit_wait(address_failures, 0, MAX_FAILURES_PER_ADDRESS, now) {
        Some(retry_after_secs) => LoginVerdict::Blocked { retry_after_secs },
        None => LoginVerdict::Allowed {
            remaining: MAX_FAILURES_PER_ADDRESS
                .saturating_sub(recent(address_failures, now).count() + 1),
        },
    }
}

/// Whether a user may have their current password checked, given their recent failed
/// checks and those still running: a stolen session must not become an unlimited oracle.
pub fn password_change_verdict(
    failures: &[DateTime<Utc>],
    in_flight: usize,
    now: DateTime<Utc>,
) -> LoginVerdict {
    match limit_wait(failures, in_flight, MAX_PASSWORD_CHANGE_FAILURES, now) {
        Some(retry_after_secs) => LoginVerdict::Blocked { retry_after_secs },
        None => LoginVerdict::Allowed {
            remaining: MAX_PASSWORD_CHANGE_FAILURES
                .saturating_sub(recent(failures, now).count() + 1),
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
/// out that one more attempt would be the `limit`-th again. When attempts still running
/// fill the limit, it waits for them to settle.
fn limit_wait(
    failures: &[DateTime<Utc>],
    in_flight: usize,
    limit: usize,
    now: DateTime<Utc>,
) -> Option<u64> {
    let mut recent: Vec<_> = recent(failures, now).collect();
    if recent.len() >= limit {
        recent.sort_unstable_by(|a, b| b.cmp(a));
        // The newest `limit` failures block; the oldest of those frees a slot when it ages out.
        return Some(seconds_until(now, recent[limit - 1] + window()));
    }
    (recent.len().saturating_add(in_flight) >= limit).then_some(IN_FLIGHT_RETRY_SECS)
}

/// The per-username slowdown (rule 3).
fn slowdown_wait(history: &LoginHistory<'_>, now: DateTime<Utc>) -> Option<u64> {
    if history.known_address {
        return None;
    }
    let failures = recent(history.username_failures, now)
        .count()
        .saturating_add(history.in_flight.username);
    let beyond = failures.checked_sub(SLOWDOWN_AFTER_USERNAME_FAILURES)?;
    let delay = slowdown_secs(beyond);
    let new_address =
        recent(history.pair_failures, now).next().is_none() && history.in_flight.pair == 0;
    let delay = if new_address {
        delay.min(NEW_ADDRESS_MAX_SLOWDOWN_SECS)
    } else {
        delay
    };
    // An attempt still running may fail any moment: it counts as failing now.
    let latest = if history.in_flight.username > 0 {
        Some(now)
    } else {
        recent(history.username_failures, now).max()
    }?;
    let until = latest + Duration::seconds(i64::try_from(delay).unwrap_or(i64::MAX / 1000));
    (until > now).then(|| seconds_until(now, until))
}

/// 2^beyond seconds, at most [`MAX_SLOWDOWN_SECS`].
fn slowdown_secs(beyond: usize) -> u64 {
    u32::try_from(beyond)
        .ok()
        .and_then(|shift| 1u64.checked_shl(shift))
        .unwrap_or(u64::MAX)
        .min(MAX_SLOWDOWN_SECS)
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

    fn secs(second: i64) -> DateTime<Utc> {
        at(0) + Duration::seconds(second)
    }

    /// Failures of one username from one address only.
    fn own(failures: &[DateTime<Utc>]) -> LoginHistory<'_> {
        LoginHistory {
            pair_failures: failures,
            address_failures: failures,
            username_failures: failures,
            ..LoginHistory::default()
        }
    }

    #[test]
    fn five_failures_block_the_username_at_that_address_until_the_oldest_ages_out() {
        let failures: Vec<_> = (0..4).map(at).collect();
        assert_eq!(
            login_verdict(&own(&failures), at(5)),
            LoginVerdict::Allowed { remaining: 0 }
        );
        let failures: Vec<_> = (0..5).map(at).collect();
        assert_eq!(
            login_verdict(&own(&failures), at(5)),
            LoginVerdict::Blocked {
                retry_after_secs: 10 * 60
            }
        );
        // At minute 15 the first failure is out of the window: one attempt is allowed.
        assert_eq!(
            login_verdict(&own(&failures), at(15)),
            LoginVerdict::Allowed { remaining: 0 }
        );
    }

    #[test]
    fn remaining_counts_down_per_username_and_address() {
        for (failures, remaining) in [(0, 4), (1, 3), (2, 2), (3, 1), (4, 0)] {
            let failures: Vec<_> = (0..failures).map(at).collect();
            assert_eq!(
                login_verdict(&own(&failures), at(5)),
                LoginVerdict::Allowed { remaining },
                "{failures:?}"
            );
        }
    }

    #[test]
    fn the_newest_failures_decide_how_long_to_wait() {
        let failures: Vec<_> = [0, 1, 2, 10, 11, 12, 13].into_iter().map(at).collect();
        // Newest five: 2, 10, 11, 12, 13 → free again when minute 2 ages out (minute 17).
        let history = LoginHistory {
            pair_failures: &failures,
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history, at(14)),
            LoginVerdict::Blocked {
                retry_after_secs: 3 * 60
            }
        );
    }

    #[test]
    fn failures_at_one_address_do_not_block_the_username_at_another() {
        let elsewhere: Vec<_> = (0..5).map(at).collect();
        let history = LoginHistory {
            username_failures: &elsewhere,
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history, at(5)),
            LoginVerdict::Allowed { remaining: 4 }
        );
    }

    #[test]
    fn twenty_failures_from_one_address_block_every_username() {
        let failures: Vec<_> = (0..20).map(secs).collect();
        let history = |failures| LoginHistory {
            address_failures: failures,
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history(&failures), at(1)),
            LoginVerdict::Blocked {
                retry_after_secs: 14 * 60
            }
        );
        assert_eq!(
            login_verdict(&history(&failures[..19]), at(1)),
            LoginVerdict::Allowed { remaining: 4 }
        );
    }

    #[test]
    fn attempts_still_running_fill_the_limits() {
        // (persisted failures, in flight) for the pair and for the address.
        let table = [
            (InFlight::default(), 0, None),
            (
                InFlight {
                    pair: 5,
                    ..InFlight::default()
                },
                0,
                Some(IN_FLIGHT_RETRY_SECS),
            ),
            (
                InFlight {
                    pair: 4,
                    ..InFlight::default()
                },
                0,
                None,
            ),
            (
                InFlight {
                    address: 20,
                    ..InFlight::default()
                },
                0,
                Some(IN_FLIGHT_RETRY_SECS),
            ),
            (
                InFlight {
                    address: 5,
                    ..InFlight::default()
                },
                15,
                Some(IN_FLIGHT_RETRY_SECS),
            ),
            (
                InFlight {
                    address: 4,
                    ..InFlight::default()
                },
                15,
                None,
            ),
        ];
        for (in_flight, address_failures, expected) in table {
            let failures: Vec<_> = (0..address_failures).map(secs).collect();
            let history = LoginHistory {
                address_failures: &failures,
                in_flight,
                ..LoginHistory::default()
            };
            let verdict = login_verdict(&history, at(1));
            match expected {
                Some(retry_after_secs) => assert_eq!(
                    verdict,
                    LoginVerdict::Blocked { retry_after_secs },
                    "{in_flight:?} {address_failures}"
                ),
                None => assert!(
                    matches!(verdict, LoginVerdict::Allowed { .. }),
                    "{in_flight:?} {address_failures}: {verdict:?}"
                ),
            }
        }
    }

    #[test]
    fn a_persisted_block_outlasts_the_in_flight_retry() {
        let failures: Vec<_> = (0..5).map(at).collect();
        let history = LoginHistory {
            pair_failures: &failures,
            in_flight: InFlight {
                pair: 3,
                ..InFlight::default()
            },
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history, at(5)),
            LoginVerdict::Blocked {
                retry_after_secs: 10 * 60
            }
        );
    }

    #[test]
    fn spread_guessing_slows_the_username_down_exponentially() {
        // n failures of the username from other addresses, the latest at second 0; this
        // address has failed for it once, so it is not new. Expected wait at second 0.
        let table = [
            (9, None),
            (10, Some(1)),
            (11, Some(2)),
            (12, Some(4)),
            (15, Some(32)),
            (19, Some(512)),
            (20, Some(900)),
            (60, Some(900)),
        ];
        let own = [secs(-600)];
        for (n, expected) in table {
            let failures: Vec<_> = (0..n).map(|i| secs(-i)).collect();
            let history = LoginHistory {
                pair_failures: &own,
                username_failures: &failures,
                ..LoginHistory::default()
            };
            let verdict = login_verdict(&history, secs(0));
            match expected {
                Some(retry_after_secs) => {
                    assert_eq!(verdict, LoginVerdict::Blocked { retry_after_secs }, "{n}")
                }
                None => assert!(matches!(verdict, LoginVerdict::Allowed { .. }), "{n}"),
            }
        }
    }

    #[test]
    fn the_slowdown_counts_from_the_latest_failure() {
        let failures: Vec<_> = (0..12).map(|i| secs(-i)).collect();
        let own = [secs(-600)];
        let history = LoginHistory {
            pair_failures: &own,
            username_failures: &failures,
            ..LoginHistory::default()
        };
        // Twelve failures: 4 s after the latest (second 0).
        assert_eq!(
            login_verdict(&history, secs(3)),
            LoginVerdict::Blocked {
                retry_after_secs: 1
            }
        );
        assert!(matches!(
            login_verdict(&history, secs(4)),
            LoginVerdict::Allowed { .. }
        ));
    }

    #[test]
    fn a_new_address_waits_only_briefly_and_a_known_one_not_at_all() {
        let failures: Vec<_> = (0..60).map(|i| secs(-i)).collect();
        let new_address = LoginHistory {
            username_failures: &failures,
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&new_address, secs(0)),
            LoginVerdict::Blocked {
                retry_after_secs: NEW_ADDRESS_MAX_SLOWDOWN_SECS
            }
        );
        assert!(matches!(
            login_verdict(&new_address, secs(10)),
            LoginVerdict::Allowed { remaining: 4 }
        ));
        let known = LoginHistory {
            known_address: true,
            ..new_address
        };
        assert_eq!(
            login_verdict(&known, secs(0)),
            LoginVerdict::Allowed { remaining: 4 }
        );
        // A known address still has its own limits.
        let own: Vec<_> = (0..5).map(secs).collect();
        let known_but_failing = LoginHistory {
            pair_failures: &own,
            ..known
        };
        assert!(matches!(
            login_verdict(&known_but_failing, secs(10)),
            LoginVerdict::Blocked { .. }
        ));
    }

    #[test]
    fn attempts_running_elsewhere_count_for_the_slowdown_as_failing_now() {
        let failures: Vec<_> = (0..9).map(|i| at(-i)).collect();
        let history = LoginHistory {
            username_failures: &failures,
            in_flight: InFlight {
                username: 1,
                ..InFlight::default()
            },
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history, at(0)),
            LoginVerdict::Blocked {
                retry_after_secs: 1
            }
        );
        let idle = LoginHistory {
            in_flight: InFlight::default(),
            ..history
        };
        assert!(matches!(
            login_verdict(&idle, at(0)),
            LoginVerdict::Allowed { .. }
        ));
    }

    #[test]
    fn slowdown_never_overflows() {
        assert_eq!(slowdown_secs(0), 1);
        assert_eq!(slowdown_secs(9), 512);
        assert_eq!(slowdown_secs(10), MAX_SLOWDOWN_SECS);
        assert_eq!(slowdown_secs(64), MAX_SLOWDOWN_SECS);
        assert_eq!(slowdown_secs(usize::MAX), MAX_SLOWDOWN_SECS);
        let history = LoginHistory {
            in_flight: InFlight {
                pair: usize::MAX,
                address: usize::MAX,
                username: usize::MAX,
            },
            ..LoginHistory::default()
        };
        assert_eq!(
            login_verdict(&history, at(0)),
            LoginVerdict::Blocked {
                retry_after_secs: MAX_SLOWDOWN_SECS
            }
        );
    }

    #[test]
    fn old_and_future_failures_do_not_count() {
        let failures = [at(-30), at(-15), at(10)];
        assert_eq!(
            login_verdict(&own(&failures), at(0)),
            LoginVerdict::Allowed { remaining: 4 }
        );
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let failures: Vec<_> = (0..5).map(|_| at(0)).collect();
        let now = at(15) - Duration::milliseconds(1);
        assert_eq!(
            login_verdict(&own(&failures), now),
            LoginVerdict::Blocked {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn bearer_failures_are_limited_per_address() {
        let failures: Vec<_> = (0..19).map(secs).collect();
        assert_eq!(
            address_verdict(&failures, at(1)),
            LoginVerdict::Allowed { remaining: 0 }
        );
        let failures: Vec<_> = (0..20).map(secs).collect();
        assert_eq!(
            address_verdict(&failures, at(1)),
            LoginVerdict::Blocked {
                retry_after_secs: 14 * 60
            }
        );
    }

    #[test]
    fn password_change_allows_five_failed_checks_per_window() {
        let failures: Vec<_> = (0..4).map(at).collect();
        assert_eq!(
            password_change_verdict(&failures, 0, at(5)),
            LoginVerdict::Allowed { remaining: 0 }
        );
        assert_eq!(
            password_change_verdict(&failures, 1, at(5)),
            LoginVerdict::Blocked {
                retry_after_secs: IN_FLIGHT_RETRY_SECS
            }
        );
        let failures: Vec<_> = (0..5).map(at).collect();
        assert_eq!(
            password_change_verdict(&failures, 0, at(5)),
            LoginVerdict::Blocked {
                retry_after_secs: 10 * 60
            }
        );
        assert!(matches!(
            password_change_verdict(&failures, 0, at(15)),
            LoginVerdict::Allowed { .. }
        ));
    }
}
