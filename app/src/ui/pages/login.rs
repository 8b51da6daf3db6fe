use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Login;
use crate::ui::components::form::describe_error;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login = ServerAction::<Login>::new();
    Effect::new(move |_| {
        if let Some(Ok(target)) = login.value().get() {
            // A full load, so every part of the page sees the new session.
            let _ = window().location().set_href(&target);
        }
    });
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| describe_error(&error))
    };
    view! {
        <Title text="登录" />
        <section class="card auth-card">
            <h1 class="page-title">"登录"</h1>
            <ActionForm action=login attr:class="form" attr:data-testid="login-form">
                <input type="hidden" name="next" value=next />
                <label>
                    "用户名"
                    <input
                        name="username"
                        autocomplete="username"
                        required
                        maxlength="64"
                        autofocus
                    />
                </label>
                <label>
                    "密码"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        maxlength="128"
                    />
                </label>
                <label class="check">
                    <input type="checkbox" name="remember" value="on" />
                    "记住我（长时间不操作也保持登录）"
                </label>
                {move || {
                    error()
                        .map(|message| {
                            view! {
                                <p class="alert error" role="alert" data-testid="login-error">
                                    {message}
                                </p>
                            }
                        })
                }}
                <button type="submit" class="button" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "登录中…" } else { "登录" }}
                </button>
            </ActionForm>
        </section>
    }
}
