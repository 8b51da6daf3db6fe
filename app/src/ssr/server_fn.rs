//! What server functions share. Almost all have one shape: who is asking (and from
//! where), then the service the REST API calls, with errors answered in the REST API's
//! status codes. `call` is that shape; the rest serve the few about sessions.

use std::future::Future;

use super::Services;
use super::auth::{Actor, RequestMeta};
pub use super::auth::{AuthSession, SessionUser, request_meta, session_actor};
pub use super::respond;
use crate::AppError;

/// A server function's caller: the signed-in actor, their request and the services.
pub struct Call {
    pub services: Services,
    pub actor: Actor,
    pub meta: RequestMeta,
}

/// Runs `body` for the signed-in caller; answers 401 without running it otherwise.
pub async fn call<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(Call) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    respond(
        async {
            let meta = request_meta().await;
            let actor = session_actor().await?;
            body(Call {
                services: services(),
                actor,
                meta,
            })
            .await
        }
        .await,
    )
}

pub fn services() -> Services {
    leptos::prelude::expect_context::<Services>()
}

pub async fn auth_session() -> Result<AuthSession, AppError> {
    leptos_axum::extract().await.map_err(|error| {
        tracing::error!(%error, "the session layer is missing");
        AppError::Internal
    })
}

pub fn session_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "session store failed");
    AppError::Internal
}
