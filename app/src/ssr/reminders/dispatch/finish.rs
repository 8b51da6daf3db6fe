//! What a sent (or settled) row becomes, and recording it while the lease is ours.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::super::super::Services;
use super::super::super::entity::delivery;
use super::super::super::notify::SendOutcome;
use super::super::status;
use crate::AppError;
use crate::domain::channel::Verdict;
use crate::domain::robot;

/// What a claimed row becomes.
pub(super) struct Step {
    pub(super) status: &'static str,
    pub(super) answer: Option<String>,
    pub(super) check_result: Option<String>,
    pub(super) sent_at: Option<DateTime<Utc>>,
    pub(super) next_attempt_at: Option<DateTime<Utc>>,
    pub(super) message_key: Option<String>,
    /// The claim counted an attempt that never sent anything.
    pub(super) refund_attempt: bool,
}

impl Step {
    pub(super) fn end(status: &'static str, answer: impl Into<String>) -> Self {
        Self {
            status,
            answer: Some(answer.into()),
            check_result: None,
            sent_at: None,
            next_attempt_at: None,
            message_key: None,
            refund_attempt: false,
        }
    }
}

/// Back to `pending` until `at` without counting an attempt (nothing was sent), or `failed`
/// when that is past the deadline.
pub(super) fn later_step(row: &delivery::Model, at: DateTime<Utc>, why: String) -> Step {
    if at > row.deadline_at {
        return Step::end(status::FAILED, format!("到发送期限仍未轮到：{why}"));
    }
    Step {
        next_attempt_at: Some(at),
        refund_attempt: true,
        ..Step::end(status::PENDING, why)
    }
}

/// What one row of a sent message becomes.
pub(super) fn step_of(sent: &SendOutcome, row: &delivery::Model, now: DateTime<Utc>) -> Step {
    match &sent.verdict {
        Verdict::Sent => Step {
            sent_at: Some(now),
            ..Step::end(
                status::SENT,
                sent.answer
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(500)
                    .collect::<String>(),
            )
        },
        Verdict::RetryLater(message) | Verdict::Throttled(message) => {
            retry_step(row, now, message.clone())
        }
        Verdict::Permanent(message) => Step::end(status::FAILED, message.clone()),
    }
}

/// Back to `pending` after a backoff with jitter, or `failed` when that passes the deadline.
pub(super) fn retry_step(row: &delivery::Model, now: DateTime<Utc>, message: String) -> Step {
    let attempt = u32::try_from(Ord::max(row.attempts, 1)).unwrap_or(1);
    let jitter = f64::from(getrandom::u32().unwrap_or(0)) / (f64::from(u32::MAX) + 1.0);
    let wait = Duration::from_std(robot::backoff(attempt, jitter)).unwrap_or(Duration::seconds(5));
    let next = now + wait;
    if next > row.deadline_at {
        return Step::end(
            status::FAILED,
            format!("第 {attempt} 次发送失败，已到重试期限：{message}"),
        );
    }
    Step {
        next_attempt_at: Some(next),
        ..Step::end(
            status::PENDING,
            format!("第 {attempt} 次发送失败，稍后重试：{message}"),
        )
    }
}

/// Pauses before recording a result again after the database was busy.
const RECORD_RETRY_PAUSES: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(250),
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(1),
];

/// SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED`: another process held the lock too long.
fn is_busy(error: &sea_orm::DbErr) -> bool {
    let text = error.to_string();
    text.contains("database is locked") || text.contains("database table is locked")
}

/// Records the step, only while the lease is still ours.
pub(super) async fn finish(
    services: &Services,
    row: &delivery::Model,
    lease: DateTime<Utc>,
    step: Step,
) -> Result<(), AppError> {
    let now = services.clock.now();
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(step.status))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now));
    if let Some(answer) = step.answer {
        update = update.col_expr(delivery::Column::Answer, Expr::value(Some(answer)));
    }
    if let Some(check_result) = step.check_result {
        update = update.col_expr(
            delivery::Column::CheckResult,
            Expr::value(Some(check_result)),
        );
    }
    if let Some(sent_at) = step.sent_at {
        update = update.col_expr(delivery::Column::SentAt, Expr::value(Some(sent_at)));
    }
    if let Some(next) = step.next_attempt_at {
        update = update.col_expr(delivery::Column::NextAttemptAt, Expr::value(next));
    }
    if let Some(message_key) = step.message_key {
        update = update.col_expr(delivery::Column::MessageKey, Expr::value(Some(message_key)));
    }
    if step.refund_attempt {
        update = update.col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).sub(1),
        );
    }
    let update = update
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease));
    // A result that is not recorded is sent again once the lease lapses: a double reminder
    // on every platform without a message id. SQLite answers "database is locked" when
    // another process held the write lock past the busy timeout; the write is conditional
    // on our lease, so trying it again is safe.
    let mut pauses = RECORD_RETRY_PAUSES.iter();
    let result = loop {
        match update.clone().exec(&services.db).await {
            Ok(result) => break result,
            Err(error) if is_busy(&error) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(delivery = row.id, %error, "recording the result again");
                    tokio::time::sleep(*pause).await;
                }
                None => return Err(error.into()),
            },
            Err(error) => return Err(error.into()),
        }
    };
    if result.rows_affected != 1 {
        tracing::warn!(
            delivery = row.id,
            "lease lost before the result was recorded"
        );
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    pub(in super::super) fn row(id: i32, due: DateTime<Utc>) -> delivery::Model {
        delivery::Model {
            id,
            user_id: 7,
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            kind: "clock_in".to_owned(),
            sequence: 0,
            shift_id: 1,
            shift_name: "早班".to_owned(),
            due_at: due,
            deadline_at: due + Duration::minutes(10),
            status: status::SENDING.to_owned(),
            attempts: 1,
            next_attempt_at: due,
            lease_until: Some(due + Duration::seconds(60)),
            channel_id: Some(3),
            channel_name: "团队群".to_owned(),
            platform: Some("dingtalk".to_owned()),
            sent_at: None,
            check_result: None,
            answer: None,
            idempotency_key: format!("7:2026-03-02:clock_in:{id}"),
            message_key: None,
            created_at: due,
            updated_at: due,
        }
    }

    pub(in super::super) fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 45, 0).unwrap()
    }

    fn outcome(verdict: Verdict, answer: Option<&str>) -> SendOutcome {
        SendOutcome {
            verdict,
            http_status: answer.map(|_| 200),
            answer: answer.map(str::to_owned),
        }
    }

    #[test]
    fn an_accepted_send_is_sent_now_with_the_answer_kept_short() {
        let now = due() + Duration::seconds(2);
        let long = "好".repeat(600);
        let step = step_of(&outcome(Verdict::Sent, Some(&long)), &row(1, due()), now);
        assert_eq!(step.status, status::SENT);
        assert_eq!(step.sent_at, Some(now));
        assert_eq!(step.answer.unwrap().chars().count(), 500);
        assert!(!step.refund_attempt);
    }

    #[test]
    fn a_refusal_fails_at_once_with_the_reason() {
        let step = step_of(
            &outcome(Verdict::Permanent("errcode 310000".into()), Some("{}")),
            &row(1, due()),
            due(),
        );
        assert_eq!(step.status, status::FAILED);
        assert_eq!(step.answer.as_deref(), Some("errcode 310000"));
        assert_eq!(step.next_attempt_at, None);
    }

    #[test]
    fn a_retryable_answer_waits_a_backoff_until_the_deadline() {
        let now = due() + Duration::seconds(1);
        for verdict in [
            Verdict::RetryLater("HTTP 503".into()),
            Verdict::Throttled("130101".into()),
        ] {
            let step = step_of(&outcome(verdict, None), &row(1, due()), now);
            assert_eq!(step.status, status::PENDING);
            let wait = step.next_attempt_at.unwrap() - now;
            // The first retry waits half to all of 5 s.
            assert!(
                wait >= Duration::milliseconds(2500) && wait <= Duration::seconds(5),
                "{wait}"
            );
            assert!(
                step.answer
                    .unwrap()
                    .starts_with("第 1 次发送失败，稍后重试")
            );
        }
        // Past the deadline there is no next time.
        let late = row(1, due()).deadline_at - Duration::seconds(1);
        let step = retry_step(&row(1, due()), late, "HTTP 503".into());
        assert_eq!(step.status, status::FAILED);
        assert_eq!(
            step.answer.as_deref(),
            Some("第 1 次发送失败，已到重试期限：HTTP 503")
        );
    }

    #[test]
    fn waiting_for_a_slot_hands_the_row_back_without_counting_an_attempt() {
        let row = row(1, due());
        let at = due() + Duration::minutes(1);
        let step = later_step(&row, at, "等待发送名额".into());
        assert_eq!(step.status, status::PENDING);
        assert_eq!(step.next_attempt_at, Some(at));
        assert!(step.refund_attempt);
        let step = later_step(&row, row.deadline_at + Duration::seconds(1), "等待".into());
        assert_eq!(step.status, status::FAILED);
        assert!(!step.refund_attempt);
    }

    #[test]
    fn only_a_busy_database_is_worth_recording_again() {
        use sea_orm::{DbErr, RuntimeErr};
        assert!(is_busy(&DbErr::Exec(RuntimeErr::Internal(
            "error returned from database: (code: 5) database is locked".to_owned()
        ))));
        assert!(!is_busy(&DbErr::Exec(RuntimeErr::Internal(
            "no such column: lease_until".to_owned()
        ))));
        assert!(!is_busy(&DbErr::RecordNotFound("delivery 7".to_owned())));
    }
}
