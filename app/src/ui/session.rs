//! The signed-in user, loaded once by the layout and shared with every page.

use leptos::prelude::*;

use crate::AppError;
use crate::api::current_user;
use crate::api::types::SessionInfo;
use crate::domain::Role;

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub info: Resource<Result<Option<SessionInfo>, AppError>>,
}

impl SessionContext {
    pub fn provide() -> Self {
        let context = Self {
            info: Resource::new(|| (), |_| current_user()),
        };
        provide_context(context);
        context
    }

    pub fn current() -> Self {
        expect_context()
    }

    /// The loaded session, if any (`None` while loading or signed out). `try_get`: a
    /// response whose client went away may still be rendering after its owner is gone.
    pub fn get(&self) -> Option<SessionInfo> {
        self.info.try_get().flatten().and_then(Result::ok).flatten()
    }

    pub fn is_admin(&self) -> bool {
        self.get().is_some_and(|info| info.user.role == Role::Admin)
    }

    /// Waits for the session, then says whether it is an admin's (for data loaders).
    pub async fn load_is_admin(self) -> bool {
        self.info
            .await
            .ok()
            .flatten()
            .is_some_and(|info| info.user.role == Role::Admin)
    }
}
