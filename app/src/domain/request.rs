//! Requests that change the plan: leave, a swap of two people's shifts, a shift given to a
//! colleague (cover) and an open shift members claim. One state machine for all four: who
//! may do what in which state, and where it leads. The server stores the states and the
//! history of events, checks the schedule and applies an approval; everything here is pure.
//!
//! ```text
//! swap, cover:  pending_peer ─accept→ pending ─approve→ approved
//!                    │  (auto-approved swap) ───────────→ approved
//! leave, open:                pending ─approve (leave) / claim (open)→ approved
//! undecided:    ─reject→ rejected · ─cancel→ cancelled · ─expire→ expired · ─invalidate→ invalidated
//! approved leave, swap, cover: ─revoke→ cancelled (the plan is restored)
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest reason written with a request or a rejection, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// The most days one leave request covers.
pub const MAX_LEAVE_DAYS: i64 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A person is away for a date range (or part of a day).
    Leave,
    /// Two people exchange their shifts, on the same day or on different days.
    Swap,
    /// A person gives a shift to a named colleague.
    Cover,
    /// An admin posts a shift nobody has; the first valid claim takes it.
    Open,
}

impl RequestKind {
    pub const ALL: [Self; 4] = [Self::Leave, Self::Swap, Self::Cover, Self::Open];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::Swap => "swap",
            Self::Cover => "cover",
            Self::Open => "open",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Leave => "请假",
            Self::Swap => "换班",
            Self::Cover => "代班",
            Self::Open => "空缺班次",
        }
    }

    /// A colleague must accept before an admin decides.
    pub fn needs_peer(self) -> bool {
        matches!(self, Self::Swap | Self::Cover)
    }

    /// The state a new request starts in.
    pub fn initial_state(self) -> RequestState {
        if self.needs_peer() {
            RequestState::PendingPeer
        } else {
            RequestState::Pending
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for the named colleague (swap, cover).
    PendingPeer,
    /// Waiting for an admin (leave, an accepted swap or cover) or for a claim (open).
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by the requester while undecided, or an approval revoked by an admin.
    Cancelled,
    /// Still undecided when the shift started.
    Expired,
    /// The schedule it names changed after it was made.
    Invalidated,
}

impl RequestState {
    pub const ALL: [Self; 7] = [
        Self::PendingPeer,
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Invalidated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPeer => "pending_peer",
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Invalidated => "invalidated",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::PendingPeer => "等同事确认",
            Self::Pending => "待审批",
            Self::Approved => "已批准",
            Self::Rejected => "已拒绝",
            Self::Cancelled => "已撤销",
            Self::Expired => "已过期",
            Self::Invalidated => "已失效",
        }
    }

    /// Nobody has decided yet: it may still be accepted, approved, rejected or cancelled.
    pub fn is_undecided(self) -> bool {
        matches!(self, Self::PendingPeer | Self::Pending)
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What someone does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The named colleague agrees (swap, cover).
    Accept,
    /// The named colleague declines.
    Decline,
    Approve,
    Reject,
    /// The requester withdraws an undecided request (or an admin does).
    Cancel,
    /// A member takes an open shift.
    Claim,
    /// An admin takes back an approved leave, swap or cover: the plan is restored.
    Revoke,
    /// The system: the shift started while the request was undecided.
    Expire,
    /// The system: the schedule it names changed.
    Invalidate,
}

impl Action {
    pub const ALL: [Self; 9] = [
        Self::Accept,
        Self::Decline,
        Self::Approve,
        Self::Reject,
        Self::Cancel,
        Self::Claim,
        Self::Revoke,
        Self::Expire,
        Self::Invalidate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Cancel => "cancel",
            Self::Claim => "claim",
            Self::Revoke => "revoke",
            Self::Expire => "expire",
            Self::Invalidate => "invalidate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Accept => "同意",
            Self::Decline => "婉拒",
            Self::Approve => "批准",
            Self::Reject => "拒绝",
            Self::Cancel => "撤回",
            Self::Claim => "认领",
            Self::Revoke => "撤销批准",
            Self::Expire => "过期",
            Self::Invalidate => "失效",
        }
    }

    /// A reason must be given (a rejection, a declined or revoked request).
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Reject | Self::Decline | Self::Revoke)
    }
}

/// Who acts on a request, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub is_admin: bool,
    /// The person the request is for (who asks for leave, gives or swaps a shift).
    pub is_requester: bool,
    /// The colleague a swap or cover names.
    pub is_peer: bool,
    /// The server itself (expiry, a schedule change): never a person.
    pub is_system: bool,
}

impl Actor {
    pub const SYSTEM: Self = Self {
        is_admin: false,
        is_requester: false,
        is_peer: false,
        is_system: true,
    };
}

/// Why an action is refused: `Forbidden` (403: not this person's to do), `Conflict` (409:
/// not in this state, already decided) or `Invalid` (422: a reason is missing or too long).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

/// Settings that change the machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// A swap both people agreed to is approved without an admin.
    pub auto_approve_swaps: bool,
}

/// A reason as written: trimmed, required for some actions, at most [`MAX_REASON_CHARS`].
pub fn reason(action: Action, written: Option<&str>) -> Result<Option<String>, RequestError> {
    match note(written)? {
        None if action.needs_reason() => Err(RequestError::Invalid(format!(
            "{}需要填写原因",
            action.label()
        ))),
        note => Ok(note),
    }
}

/// An optional reason as written (a new request's): trimmed, at most [`MAX_REASON_CHARS`].
pub fn note(written: Option<&str>) -> Result<Option<String>, RequestError> {
    let text = written.map(str::trim).filter(|text| !text.is_empty());
    match text {
        None => Ok(None),
        Some(text) if text.chars().any(char::is_control) => Err(RequestError::Invalid(
            "原因不能包含换行或其他控制字符".to_owned(),
        )),
        Some(text) if text.chars().count() > MAX_REASON_CHARS => Err(RequestError::Invalid(
            format!("原因最多 {MAX_REASON_CHARS} 个字符"),
        )),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// Whether `actor` may create a request of `kind` for a person: members only for
/// themselves, open shifts only by admins.
pub fn may_create(kind: RequestKind, is_admin: bool, for_self: bool) -> Result<(), RequestError> {
    if kind == RequestKind::Open && !is_admin {
        return Err(RequestError::Forbidden(
            "只有管理员能发布空缺班次".to_owned(),
        ));
    }
    if !for_self && !is_admin {
        return Err(RequestError::Forbidden(
            "只能为自己提交申请；替别人提交需要管理员".to_owned(),
        ));
    }
    Ok(())
}

/// The state `action` by `actor` leads to from `state`, or why it may not happen.
pub fn transition(
    kind: RequestKind,
    state: RequestState,
    action: Action,
    actor: Actor,
    policy: Policy,
) -> Result<RequestState, RequestError> {
    use RequestState as S;
    let forbidden = |who: &str| {
        Err(RequestError::Forbidden(format!(
            "只有{who}能{}这个{}",
            action.label(),
            kind.label()
        )))
    };
    let conflict = || {
        Err(RequestError::Conflict(format!(
            "这个{}{}，不能{}",
            kind.label(),
            state.label(),
            action.label()
        )))
    };
    let system = matches!(action, Action::Expire | Action::Invalidate);
    if system != actor.is_system {
        return forbidden(if system { "系统" } else { "相关的人" });
    }
    match action {
        Action::Accept | Action::Decline => {
            if !kind.needs_peer() {
                return Err(RequestError::Conflict(format!(
                    "{}不需要同事确认",
                    kind.label()
                )));
            }
            if !actor.is_peer {
                return forbidden("被邀请的同事");
            }
            match (state, action) {
                (S::PendingPeer, Action::Decline) => Ok(S::Rejected),
                (S::PendingPeer, _) if kind == RequestKind::Swap && policy.auto_approve_swaps => {
                    Ok(S::Approved)
                }
                (S::PendingPeer, _) => Ok(S::Pending),
                _ => conflict(),
            }
        }
        Action::Approve | Action::Reject => {
            if !actor.is_admin {
                return forbidden("管理员");
            }
            match (state, action) {
                // An open shift is taken by a claim, not approved.
                (S::Pending, Action::Approve) if kind == RequestKind::Open => Err(
                    RequestError::Conflict("空缺班次由成员认领，不需要批准".to_owned()),
                ),
                (S::Pending, Action::Approve) => Ok(S::Approved),
                (S::PendingPeer | S::Pending, Action::Reject) => Ok(S::Rejected),
                _ => conflict(),
            }
        }
        Action::Cancel => {
            if !actor.is_requester && !actor.is_admin {
                return forbidden("申请人或管理员");
            }
            if state.is_undecided() {
                Ok(S::Cancelled)
            } else {
                conflict()
            }
        }
        Action::Claim => {
            if kind != RequestKind::Open {
                return Err(RequestError::Conflict(format!(
                    "只能认领空缺班次，这是{}",
                    kind.label()
                )));
            }
            match state {
                S::Pending => Ok(S::Approved),
                S::Approved => Err(RequestError::Conflict(
                    "这个空缺班次已经被人认领".to_owned(),
                )),
                _ => conflict(),
            }
        }
        Action::Revoke => {
            if !actor.is_admin {
                return forbidden("管理员");
            }
            match state {
                S::Approved if kind != RequestKind::Open => Ok(S::Cancelled),
                _ => conflict(),
            }
        }
        Action::Expire | Action::Invalidate => {
            if !state.is_undecided() {
                return conflict();
            }
            Ok(if action == Action::Expire {
                S::Expired
            } else {
                S::Invalidated
            })
        }
    }
}

/// What a leave request covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeaveType {
    /// 年假
    Annual,
    /// 病假
    Sick,
    /// 事假
    Personal,
    /// 调休 (time off in lieu of overtime)
    InLieu,
    Other,
}

impl LeaveType {
    pub const ALL: [Self; 5] = [
        Self::Annual,
        Self::Sick,
        Self::Personal,
        Self::InLieu,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Annual => "annual",
            Self::Sick => "sick",
            Self::Personal => "personal",
            Self::InLieu => "in_lieu",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Annual => "年假",
            Self::Sick => "病假",
            Self::Personal => "事假",
            Self::InLieu => "调休",
            Self::Other => "其他",
        }
    }
}

/// Which part of each day a leave covers: the whole day, or the morning (no clock-in
/// reminder) or the afternoon (no clock-out reminder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    #[default]
    Full,
    Morning,
    Afternoon,
}

impl DayPart {
    pub const ALL: [Self; 3] = [Self::Full, Self::Morning, Self::Afternoon];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|part| part.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "全天",
            Self::Morning => "上午",
            Self::Afternoon => "下午",
        }
    }
}

/// An approved leave on one day, as the reminder rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Leave {
    pub leave_type: LeaveType,
    pub part: DayPart,
}

/// A leave's dates: `from` to `to` inclusive, at most [`MAX_LEAVE_DAYS`] days.
pub fn leave_days(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<i64, RequestError> {
    let days = (to - from).num_days() + 1;
    if days < 1 {
        return Err(RequestError::Invalid("结束日期不能早于开始日期".to_owned()));
    }
    if days > MAX_LEAVE_DAYS {
        return Err(RequestError::Invalid(format!(
            "一次请假最多 {MAX_LEAVE_DAYS} 天，这里有 {days} 天"
        )));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::RequestKind::{Cover, Leave, Open, Swap};
    use super::RequestState::*;
    use super::*;

    const ADMIN: Actor = Actor {
        is_admin: true,
        is_requester: false,
        is_peer: false,
        is_system: false,
    };
    const REQUESTER: Actor = Actor {
        is_admin: false,
        is_requester: true,
        is_peer: false,
        is_system: false,
    };
    const PEER: Actor = Actor {
        is_admin: false,
        is_requester: false,
        is_peer: true,
        is_system: false,
    };
    const OTHER: Actor = Actor {
        is_admin: false,
        is_requester: false,
        is_peer: false,
        is_system: false,
    };
    const MANUAL: Policy = Policy {
        auto_approve_swaps: false,
    };

    fn go(
        kind: RequestKind,
        state: RequestState,
        action: Action,
        actor: Actor,
    ) -> Result<RequestState, RequestError> {
        transition(kind, state, action, actor, MANUAL)
    }

    #[test]
    fn names_round_trip() {
        for kind in RequestKind::ALL {
            assert_eq!(RequestKind::parse(kind.as_str()), Some(kind));
        }
        for state in RequestState::ALL {
            assert_eq!(RequestState::parse(state.as_str()), Some(state));
        }
        for leave in LeaveType::ALL {
            assert_eq!(LeaveType::parse(leave.as_str()), Some(leave));
        }
        assert_eq!(RequestKind::parse("holiday"), None);
    }

    #[test]
    fn swaps_and_covers_wait_for_the_colleague_then_an_admin() {
        for kind in [Swap, Cover] {
            assert_eq!(kind.initial_state(), PendingPeer);
            assert_eq!(go(kind, PendingPeer, Action::Accept, PEER), Ok(Pending));
            assert_eq!(go(kind, PendingPeer, Action::Decline, PEER), Ok(Rejected));
            assert_eq!(go(kind, Pending, Action::Approve, ADMIN), Ok(Approved));
            assert_eq!(go(kind, Pending, Action::Reject, ADMIN), Ok(Rejected));
            // The admin may reject before the colleague answers, not approve.
            assert_eq!(go(kind, PendingPeer, Action::Reject, ADMIN), Ok(Rejected));
            assert!(matches!(
                go(kind, PendingPeer, Action::Approve, ADMIN),
                Err(RequestError::Conflict(_))
            ));
        }
    }

    #[test]
    fn a_setting_approves_agreed_swaps_but_not_covers() {
        let auto = Policy {
            auto_approve_swaps: true,
        };
        assert_eq!(
            transition(Swap, PendingPeer, Action::Accept, PEER, auto),
            Ok(Approved)
        );
        assert_eq!(
            transition(Cover, PendingPeer, Action::Accept, PEER, auto),
            Ok(Pending)
        );
    }

    #[test]
    fn leave_goes_straight_to_an_admin_and_an_open_shift_to_the_first_claim() {
        assert_eq!(Leave.initial_state(), Pending);
        assert_eq!(go(Leave, Pending, Action::Approve, ADMIN), Ok(Approved));
        assert_eq!(Open.initial_state(), Pending);
        assert_eq!(go(Open, Pending, Action::Claim, OTHER), Ok(Approved));
        assert_eq!(
            go(Open, Approved, Action::Claim, OTHER),
            Err(RequestError::Conflict(
                "这个空缺班次已经被人认领".to_owned()
            ))
        );
        assert!(matches!(
            go(Open, Pending, Action::Approve, ADMIN),
            Err(RequestError::Conflict(_))
        ));
        for kind in [Leave, Swap, Cover] {
            assert!(matches!(
                go(kind, Pending, Action::Claim, OTHER),
                Err(RequestError::Conflict(_))
            ));
        }
        for kind in [Leave, Open] {
            assert!(matches!(
                go(kind, Pending, Action::Accept, PEER),
                Err(RequestError::Conflict(_))
            ));
        }
    }

    #[test]
    fn only_the_named_colleague_answers_and_only_admins_decide() {
        for actor in [ADMIN, REQUESTER, OTHER] {
            assert_eq!(
                go(Swap, PendingPeer, Action::Accept, actor),
                Err(RequestError::Forbidden(
                    "只有被邀请的同事能同意这个换班".to_owned()
                ))
            );
        }
        for actor in [REQUESTER, PEER, OTHER] {
            for action in [Action::Approve, Action::Reject] {
                assert!(matches!(
                    go(Leave, Pending, action, actor),
                    Err(RequestError::Forbidden(_))
                ));
            }
            assert!(matches!(
                go(Leave, Approved, Action::Revoke, actor),
                Err(RequestError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn the_requester_or_an_admin_cancels_while_undecided() {
        for kind in RequestKind::ALL {
            for state in [PendingPeer, Pending] {
                assert_eq!(go(kind, state, Action::Cancel, REQUESTER), Ok(Cancelled));
                assert_eq!(go(kind, state, Action::Cancel, ADMIN), Ok(Cancelled));
                for actor in [PEER, OTHER] {
                    assert!(matches!(
                        go(kind, state, Action::Cancel, actor),
                        Err(RequestError::Forbidden(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn an_approval_is_revoked_by_an_admin_except_a_claimed_open_shift() {
        for kind in [Leave, Swap, Cover] {
            assert_eq!(go(kind, Approved, Action::Revoke, ADMIN), Ok(Cancelled));
        }
        assert!(matches!(
            go(Open, Approved, Action::Revoke, ADMIN),
            Err(RequestError::Conflict(_))
        ));
        assert!(matches!(
            go(Leave, Pending, Action::Revoke, ADMIN),
            Err(RequestError::Conflict(_))
        ));
    }

    #[test]
    fn only_the_system_expires_or_invalidates_and_only_what_is_undecided() {
        for kind in RequestKind::ALL {
            for state in [PendingPeer, Pending] {
                assert_eq!(go(kind, state, Action::Expire, Actor::SYSTEM), Ok(Expired));
                assert_eq!(
                    go(kind, state, Action::Invalidate, Actor::SYSTEM),
                    Ok(Invalidated)
                );
                assert!(matches!(
                    go(kind, state, Action::Expire, ADMIN),
                    Err(RequestError::Forbidden(_))
                ));
            }
            // The system never acts as a person.
            assert!(matches!(
                go(kind, Pending, Action::Cancel, Actor::SYSTEM),
                Err(RequestError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn nothing_leaves_a_final_state_but_a_revoked_approval() {
        let people = [ADMIN, REQUESTER, PEER, OTHER];
        let actions = [
            Action::Accept,
            Action::Decline,
            Action::Approve,
            Action::Reject,
            Action::Cancel,
            Action::Claim,
            Action::Revoke,
        ];
        for kind in RequestKind::ALL {
            for state in [Rejected, Cancelled, Expired, Invalidated, Approved] {
                for action in actions {
                    for actor in people {
                        let moved = go(kind, state, action, actor);
                        let revoked = state == Approved
                            && action == Action::Revoke
                            && actor.is_admin
                            && kind != Open;
                        if revoked {
                            assert_eq!(moved, Ok(Cancelled));
                        } else {
                            assert!(moved.is_err(), "{kind:?} {state:?} {action:?} {actor:?}");
                        }
                    }
                }
                for action in [Action::Expire, Action::Invalidate] {
                    assert!(go(kind, state, action, Actor::SYSTEM).is_err());
                }
            }
        }
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(
            go(Leave, Approved, Action::Cancel, REQUESTER),
            Err(RequestError::Conflict(
                "这个请假已批准，不能撤回".to_owned()
            ))
        );
        assert_eq!(
            go(Leave, Pending, Action::Approve, REQUESTER),
            Err(RequestError::Forbidden(
                "只有管理员能批准这个请假".to_owned()
            ))
        );
    }

    #[test]
    fn members_ask_for_themselves_and_only_admins_post_open_shifts() {
        assert_eq!(may_create(Leave, false, true), Ok(()));
        assert_eq!(may_create(Swap, true, false), Ok(()));
        assert!(matches!(
            may_create(Leave, false, false),
            Err(RequestError::Forbidden(_))
        ));
        assert!(matches!(
            may_create(Open, false, true),
            Err(RequestError::Forbidden(_))
        ));
        assert_eq!(may_create(Open, true, true), Ok(()));
    }

    #[test]
    fn reasons_are_required_where_someone_says_no_and_bounded() {
        assert_eq!(
            reason(Action::Reject, Some("  ")),
            Err(RequestError::Invalid("拒绝需要填写原因".to_owned()))
        );
        assert_eq!(reason(Action::Approve, None), Ok(None));
        assert_eq!(
            reason(Action::Decline, Some(" 那天有事 ")),
            Ok(Some("那天有事".to_owned()))
        );
        assert!(reason(Action::Reject, Some("a\nb")).is_err());
        assert!(reason(Action::Reject, Some(&"字".repeat(201))).is_err());
        assert!(reason(Action::Reject, Some(&"字".repeat(200))).is_ok());
    }

    #[test]
    fn leave_covers_one_to_31_days() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(leave_days(day(7), day(7)), Ok(1));
        assert_eq!(leave_days(day(1), day(31)), Ok(31));
        assert!(leave_days(day(8), day(7)).is_err());
        assert_eq!(
            leave_days(day(1), day(31) + chrono::Days::new(1)),
            Err(RequestError::Invalid(
                "一次请假最多 31 天，这里有 32 天".to_owned()
            ))
        );
    }
}
