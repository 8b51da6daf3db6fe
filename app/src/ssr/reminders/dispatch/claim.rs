//! Claiming rows: a row is ours while its lease (`lease_until`) is the one we wrote; rows
//! another process claims at the same moment are skipped on PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend, EntityTrait, QueryFilter, QueryOrder};

use super::super::super::Services;
use super::super::super::entity::delivery;
use super::super::status;
use crate::AppError;

/// How long a claimed row is ours: longer than a check plus a send with their timeouts.
pub(super) const LEASE: Duration = Duration::seconds(60);
/// The lease of a send that may take several calls (a company app: sign-in, send, a second
/// sign-in and send after an expired token, the confirmation; 15 s each at most) or wait up
/// to 20 s for a slot of a paced channel.
pub(super) const SLOW_LEASE: Duration = Duration::seconds(150);

pub(super) fn due_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(delivery::Column::Status.eq(status::PENDING))
                .add(delivery::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(delivery::Column::Status.eq(status::SENDING))
                .add(delivery::Column::LeaseUntil.lt(now)),
        )
}

/// The claim's rows among `ids`. On PostgreSQL, rows another replica is claiming at this
/// moment are skipped (`FOR UPDATE SKIP LOCKED`) instead of waited for, only to be found
/// taken once its claim commits. SQLite has one writer at a time anyway.
pub(super) fn claimable(services: &Services, ids: &[i32]) -> SimpleExpr {
    let ids = ids.iter().copied();
    if services.db.get_database_backend() != DbBackend::Postgres {
        return delivery::Column::Id.is_in(ids);
    }
    let unlocked = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::Id.is_in(ids))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    delivery::Column::Id.in_subquery(unlocked)
}

/// The rows among `ids` that this claim (its `lease`) still holds.
pub(super) async fn held_rows(
    services: &Services,
    ids: &[i32],
    lease: DateTime<Utc>,
) -> Result<Vec<delivery::Model>, AppError> {
    delivery::Entity::find()
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .order_by_asc(delivery::Column::DueAt)
        .order_by_asc(delivery::Column::Id)
        .all(&services.db)
        .await
        .map_err(AppError::from)
}

pub(super) async fn extend_lease(
    services: &Services,
    ids: &[i32],
    lease: DateTime<Utc>,
    new_lease: DateTime<Utc>,
) -> Result<(), AppError> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(new_lease)))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(status::SENDING))
        .filter(delivery::Column::LeaseUntil.eq(lease))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Claims the due rows among `ids` for one lease from `now`: the lease and how many rows it
/// took. Each claim counts an attempt.
pub(super) async fn claim(
    services: &Services,
    ids: &[i32],
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, u64), AppError> {
    let lease = now + LEASE;
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::SENDING))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(lease)))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(claimable(services, ids))
        .filter(due_condition(now))
        .exec(&services.db)
        .await?;
    Ok((lease, claimed.rows_affected))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sea_orm::sea_query::{Query, SqliteQueryBuilder};

    use super::*;

    #[test]
    fn due_means_pending_and_its_time_or_sending_with_a_lapsed_lease() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 45, 0).unwrap();
        let sql = Query::select()
            .column(delivery::Column::Id)
            .from(delivery::Entity)
            .cond_where(due_condition(now))
            .to_string(SqliteQueryBuilder);
        assert!(
            sql.ends_with(
                r#"WHERE ("deliveries"."status" = 'pending' AND "deliveries"."next_attempt_at" <= '2026-03-02 00:45:00.000000 +00:00') OR ("deliveries"."status" = 'sending' AND "deliveries"."lease_until" < '2026-03-02 00:45:00.000000 +00:00')"#
            ),
            "{sql}"
        );
    }
}
