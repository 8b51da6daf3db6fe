//! The signed-in user, loaded once by the layout and shared with every page.
//!
//! **The hydration rule.** The browser's first render must produce exactly the DOM the
//! server streamed, or hydration panics and leaves the page dead. The server renders the
//! synchronous part of a view before any resource has resolved, while the browser may
//! already hold the streamed value when it hydrates. So a view never reads a resource's
//! current value (`get`, `with`, a `Show` condition, a resource keyed on another resource):
//! it awaits it inside a `Suspend` under `Suspense`/`Transition`, where both sides render
//! the same resolved data. Role-dependent markup goes through [`AdminOnly`] or awaits
//! [`SessionContext::load_is_admin`]. Reading the current value is for effects and event
//! handlers only, which never run on the server.
//!
//! **And for the server's stream to end:** create resources at the top of a page or
//! component that is not itself inside a `Suspend`. A `Suspense` re-walks its children
//! while it waits; a child that creates a resource registers a new pending load on every
//! walk, and the response may never finish.

use leptos::prelude::*;

use crate::AppError;
use crate::api::current_user;
use crate::domain::Role;
use crate::wire::SessionInfo;

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

    /// The session as loaded so far (`None` while loading or signed out). For effects and
    /// event handlers only; views await the resource (see the module doc).
    pub fn loaded(&self) -> Option<SessionInfo> {
        self.info.try_get().flatten().and_then(Result::ok).flatten()
    }

    /// The team for an admin's person pickers; empty for members (who pick no one).
    pub async fn load_team(self) -> Vec<crate::wire::TeamMember> {
        if self.load_is_admin().await {
            crate::api::list_members().await.unwrap_or_default()
        } else {
            Vec::new()
        }
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

/// Its children, for admins only, once the session has loaded.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let session = SessionContext::current();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move { session.load_is_admin().await.then(|| children()) })
            }}
        </Transition>
    }
}
