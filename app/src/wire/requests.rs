//! Requests (申请) on the wire: leave, swaps, covers and open shifts, their history and
//! what the caller may do with each.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::request::{Action, DayPart, LeaveType, RequestKind, RequestState};

/// A new request. Members ask for themselves; admins may name `user_id` to ask for
/// someone else. Reasons are at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewRequest {
    /// Leave from `from` to `to` (inclusive, at most 31 days); `part` `morning` or
    /// `afternoon` for half days (default `full`).
    Leave {
        from: NaiveDate,
        to: NaiveDate,
        leave_type: LeaveType,
        #[serde(default)]
        part: Option<DayPart>,
        #[serde(default)]
        #[cfg_attr(
            feature = "ssr",
            schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
        )]
        reason: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        user_id: Option<i32>,
    },
    /// The requester's shift on `date` for the colleague's on `peer_date` (default
    /// `date`: a swap on one day).
    Swap {
        date: NaiveDate,
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        peer_id: i32,
        #[serde(default)]
        peer_date: Option<NaiveDate>,
        #[serde(default)]
        #[cfg_attr(
            feature = "ssr",
            schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
        )]
        reason: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        user_id: Option<i32>,
    },
    /// The requester's shift on `date` given to a colleague who is free that day.
    Cover {
        date: NaiveDate,
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        peer_id: i32,
        #[serde(default)]
        #[cfg_attr(
            feature = "ssr",
            schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
        )]
        reason: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        user_id: Option<i32>,
    },
    /// An open shift (admins): members free that day may claim it.
    Open {
        date: NaiveDate,
        #[cfg_attr(feature = "ssr", schema(minimum = 1))]
        shift_id: i32,
        #[serde(default)]
        #[cfg_attr(
            feature = "ssr",
            schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
        )]
        reason: Option<String>,
    },
}

/// What comes with an action: the reason (required to reject, decline or revoke) and,
/// for an approval that breaks a working-time rule, `confirm: true` to approve anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestDecision {
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
    )]
    pub reason: Option<String>,
    #[serde(default)]
    pub confirm: Option<bool>,
}

/// What comes with saying no (decline, reject, revoke): the reason, required, holding a
/// visible character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestRefusal {
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub reason: String,
}

impl From<RequestRefusal> for RequestDecision {
    fn from(refusal: RequestRefusal) -> Self {
        Self {
            reason: Some(refusal.reason),
            confirm: None,
        }
    }
}

/// Filters for the request list. Members see the requests they made or are named in, and
/// open shifts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct RequestQuery {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(inline))]
    pub state: Option<RequestState>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(inline))]
    pub kind: Option<RequestKind>,
    /// Requests made by or naming this person.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1))]
    pub user_id: Option<i32>,
    /// Requests whose dates reach `from` or later.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Requests whose dates start on `to` or earlier.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// 1-based page number (default 1).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// A person as a request shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestPerson {
    pub id: i32,
    pub name: String,
}

/// A shift as a request shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestShift {
    pub id: i32,
    pub name: String,
    /// "HH:MM-HH:MM".
    pub hours: String,
}

/// One step of a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestEventView {
    /// `create`, or the action taken.
    pub action: String,
    pub action_label: String,
    pub from_state: Option<RequestState>,
    pub to_state: RequestState,
    /// Who: a username, `api-token`, or `system`.
    pub actor: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestView {
    pub id: i32,
    pub kind: RequestKind,
    pub kind_label: String,
    pub state: RequestState,
    pub state_label: String,
    /// Who asks (open shifts: the admin who posted it).
    pub requester: RequestPerson,
    /// Swap and cover: the colleague; open shifts: who claimed it.
    pub peer: Option<RequestPerson>,
    /// Leave: the first day; otherwise the shift date.
    pub date: NaiveDate,
    /// Leave: the last day.
    pub end_date: Option<NaiveDate>,
    /// Swap: the colleague's shift date.
    pub peer_date: Option<NaiveDate>,
    /// The shift handed over (swap, cover) or posted (open).
    pub shift: Option<RequestShift>,
    /// Swap: the colleague's shift.
    pub peer_shift: Option<RequestShift>,
    pub leave_type: Option<LeaveType>,
    pub part: Option<DayPart>,
    pub reason: Option<String>,
    /// Why it was rejected, declined or revoked.
    pub decision_reason: Option<String>,
    /// Undecided past this instant, it expires.
    pub starts_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now.
    pub actions: Vec<Action>,
    /// Working-time rules an approval would break now (shown to admins before approving).
    pub warnings: Vec<String>,
    pub history: Vec<RequestEventView>,
}

impl RequestView {
    /// The request in one line: who, what, when and which shifts ("爱丽丝 年假：2026-12-08").
    pub fn summary(&self) -> String {
        let request = self;
        let shift = |shift: &Option<RequestShift>| {
            shift.as_ref().map_or_else(String::new, |shift| {
                format!("{}（{}）", shift.name, shift.hours)
            })
        };
        match request.kind {
            RequestKind::Leave => {
                let end = request.end_date.unwrap_or(request.date);
                let dates = if end == request.date {
                    request.date.to_string()
                } else {
                    format!("{} 至 {end}", request.date)
                };
                let kind = request.leave_type.map_or("请假", LeaveType::label);
                let part = request
                    .part
                    .filter(|part| *part != DayPart::Full)
                    .map_or("", DayPart::label);
                format!("{} {kind}{part}：{dates}", request.requester.name)
            }
            RequestKind::Swap => format!(
                "{} {} {} ⇄ {} {} {}",
                request.requester.name,
                request.date,
                shift(&request.shift),
                request.peer.as_ref().map_or("", |peer| peer.name.as_str()),
                request.peer_date.unwrap_or(request.date),
                shift(&request.peer_shift),
            ),
            RequestKind::Cover => format!(
                "{} 请 {} 代班：{} {}",
                request.requester.name,
                request.peer.as_ref().map_or("", |peer| peer.name.as_str()),
                request.date,
                shift(&request.shift),
            ),
            RequestKind::Open => format!(
                "空缺班次 {} {}{}",
                request.date,
                shift(&request.shift),
                request
                    .peer
                    .as_ref()
                    .map_or_else(String::new, |peer| format!("，{} 已认领", peer.name)),
            ),
        }
    }
}
