//! `/api/v1/requests`: leave, swaps, covers and open shifts, and the actions on them.

use app::domain::request::Action;
use app::ssr::auth::RequestMeta;
use app::ssr::{Services, requests};
use app::wire::{NewRequest, Page, RequestDecision, RequestQuery, RequestRefusal, RequestView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::extract::{ApiActor, ApiJson, ApiJsonOrEmpty, ApiQuery, parse_id};
use super::responses::{AuthErrors, InvalidErrors, JsonErrors, NotFoundErrors};
use crate::routes::error::{ApiError, ErrorBody};

/// Requests the caller may see, newest first: admins all, members those they made or are
/// named in, and open shifts.
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    tag = "requests",
    params(RequestQuery),
    responses(
        AuthErrors,
        InvalidErrors,
        (status = 200, body = Page<RequestView>),
    )
)]
pub async fn list_requests(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<RequestQuery>,
) -> Result<Json<Page<RequestView>>, ApiError> {
    Ok(Json(requests::list(&services, &actor, &query).await?))
}

/// Makes a request. Members ask for themselves only (a `user_id` other than their own is
/// 403); open shifts are posted by admins. Dates are from today up to 366 days ahead; the
/// shift named must not have started. A swap or cover needs the requester to work that day
/// and the colleague to be free to take it (422 naming the field otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "requests",
    request_body = NewRequest,
    responses(
        NotFoundErrors,
        AuthErrors,
        JsonErrors,
        (status = 201, body = RequestView),
        (status = 409, description = "Overlaps a leave already asked for", body = ErrorBody),
    )
)]
pub async fn create_request(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewRequest>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let view = requests::create(&services, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    tag = "requests",
    params(("id" = i32, Path, description = "Request id")),
    responses(
        AuthErrors,
        NotFoundErrors,
        (status = 200, body = RequestView),
    )
)]
pub async fn get_request(
    State(services): State<Services>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let id = parse_id(&id, "申请")?;
    Ok(Json(requests::get(&services, &actor, id).await?))
}

async fn take(
    services: &Services,
    actor: &app::ssr::auth::Actor,
    meta: &RequestMeta,
    raw_id: &str,
    action: Action,
    decision: RequestDecision,
) -> Result<Json<RequestView>, ApiError> {
    let id = parse_id(raw_id, "申请")?;
    Ok(Json(
        requests::act(services, actor, meta, id, action, decision).await?,
    ))
}

macro_rules! action_route {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        action_route!(
            $name, $action, $path, $doc,
            ApiJsonOrEmpty<RequestDecision>,
            Option<RequestDecision>,
            "Optional: `confirm` (approve) and a note"
        );
    };
    ($name:ident, $action:expr, $path:literal, $doc:literal, $extract:ident<$body:ty>, $documented:ty, $body_doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post,
            path = $path,
            tag = "requests",
            params(("id" = i32, Path, description = "Request id")),
            request_body(content = $documented, description = $body_doc),
            responses(
                AuthErrors,
                JsonErrors,
                NotFoundErrors,
                (status = 200, body = RequestView),
                (status = 409, description = "No longer possible: already decided or taken, invalidated by a schedule change, or (approve) a working-time rule to confirm", body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(services): State<Services>,
            Extension(meta): Extension<RequestMeta>,
            ApiActor(actor): ApiActor,
            Path(id): Path<String>,
            $extract(body): $extract<$body>,
        ) -> Result<Json<RequestView>, ApiError> {
            take(&services, &actor, &meta, &id, $action, body.into()).await
        }
    };
}

/// Saying no needs a reason, so the document requires one.
macro_rules! refusal_route {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        action_route!(
            $name,
            $action,
            $path,
            $doc,
            ApiJson<RequestRefusal>,
            RequestRefusal,
            "The reason, required"
        );
    };
}

action_route!(
    accept_request,
    Action::Accept,
    "/api/v1/requests/{id}/accept",
    "The named colleague accepts a swap or cover."
);
refusal_route!(
    decline_request,
    Action::Decline,
    "/api/v1/requests/{id}/decline",
    "The named colleague declines a swap or cover (a reason is required)."
);
action_route!(
    approve_request,
    Action::Approve,
    "/api/v1/requests/{id}/approve",
    "An admin approves: the plan changes at once. A broken working-time rule answers 409 (`field` `confirm`) until sent again with `confirm: true`, or always when the setting refuses such approvals."
);
refusal_route!(
    reject_request,
    Action::Reject,
    "/api/v1/requests/{id}/reject",
    "An admin rejects (a reason is required)."
);
action_route!(
    cancel_request,
    Action::Cancel,
    "/api/v1/requests/{id}/cancel",
    "The requester (or an admin) withdraws an undecided request."
);
action_route!(
    claim_request,
    Action::Claim,
    "/api/v1/requests/{id}/claim",
    "A member free that day takes an open shift; the first valid claim wins, later ones are 409."
);
refusal_route!(
    revoke_request,
    Action::Revoke,
    "/api/v1/requests/{id}/revoke",
    "An admin takes back an approved leave, swap or cover (a reason is required): the plan is restored, unless the schedule was edited since (409)."
);
