//! Server functions for requests (申请): who is asking, then the same service the REST
//! API calls.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::domain::request::Action;
use crate::wire::{NewRequest, Page, RequestDecision, RequestQuery, RequestView, TeamMember};

#[cfg(feature = "ssr")]
use crate::ssr::server_fn as server;

#[server(prefix = "/api/fn", endpoint = "list_requests", input = Json)]
pub async fn list_requests(query: RequestQuery) -> Result<Page<RequestView>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::requests::list(&services, &actor, &query).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "create_request", input = Json)]
pub async fn create_request(input: NewRequest) -> Result<RequestView, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::requests::create(&services, &actor, input).await },
    )
    .await
}

#[server(prefix = "/api/fn", endpoint = "act_on_request", input = Json)]
pub async fn act_on_request(
    id: i32,
    action: Action,
    decision: RequestDecision,
) -> Result<RequestView, AppError> {
    server::call(
        |server::Call {
             services,
             actor,
             meta,
         }| async move {
            crate::ssr::requests::act(&services, &actor, &meta, id, action, decision).await
        },
    )
    .await
}

/// The active colleagues a request may name (everyone but the caller).
#[server(prefix = "/api/fn", endpoint = "request_colleagues", input = Json)]
pub async fn request_colleagues() -> Result<Vec<TeamMember>, AppError> {
    server::call(
        |server::Call {
             services, actor, ..
         }| async move { crate::ssr::requests::colleagues(&services, &actor).await },
    )
    .await
}
