use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    ChangePassword, create_access_token, current_user, list_access_tokens, revoke_access_token,
    update_profile,
};
use crate::domain::access_token::{EXPIRY_CHOICES, NAME_MAX_CHARS, TokenScope};
use crate::domain::account::PASSWORD_MIN_CHARS;
use crate::ui::components::channel_order::ChannelOrderEditor;
use crate::ui::components::form::{ActionResult, ContactFields, describe_error};
use crate::ui::pages::channels::ChannelManager;
use crate::ui::session::SessionContext;
use crate::wire::{AccessTokenView, NewAccessToken, UserPatch};

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let session = SessionContext::current();
    let change = ServerAction::<ChangePassword>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            // Reload the session everywhere: the must-change flag and banner are gone.
            let _ = window().location().set_href("/account/password?changed=1");
        }
    });
    let changed = leptos_router::hooks::use_query_map();
    let changed = move || changed.read().get("changed").is_some();
    view! {
        <Title text="修改密码" />
        <section class="card auth-card">
            <h1 class="page-title">"修改密码"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let must_change = session
                        .info
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|info| info.user.must_change_password);
                    must_change
                        .then(|| {
                            view! {
                                <p class="alert warning" role="alert" data-testid="must-change-notice">
                                    "这是初始密码或管理员重置的密码，请先设置您自己的新密码，之后才能使用其他功能。"
                                </p>
                            }
                        })
                })}
            </Transition>
            {move || {
                changed()
                    .then(|| {
                        view! {
                            <p class="alert ok" role="status" data-testid="password-changed">
                                "密码已修改。其他设备上的登录已退出。"
                                <a href="/">"返回首页"</a>
                            </p>
                        }
                    })
            }}
            <ActionForm action=change attr:class="form">
                <label>
                    "当前密码"
                    <input type="password" name="current" autocomplete="current-password" required />
                </label>
                <label>
                    "新密码"
                    <input
                        type="password"
                        name="new"
                        autocomplete="new-password"
                        required
                        minlength=PASSWORD_MIN_CHARS.to_string()
                        maxlength="128"
                        aria-describedby="new-password-rules"
                    />
                </label>
                <small class="muted" id="new-password-rules">
                    {format!("至少 {PASSWORD_MIN_CHARS} 个字符，不能与用户名相同，不能是常见密码")}
                </small>
                <label>
                    "确认新密码"
                    <input type="password" name="confirm" autocomplete="new-password" required />
                </label>
                {move || {
                    change
                        .value()
                        .get()
                        .and_then(Result::err)
                        .map(|error| {
                            view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }
                        })
                }}
                <button type="submit" class="button" disabled=move || change.pending().get()>
                    "修改密码"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = SessionContext::current();
    // Owned by the page, not the form: the form is rebuilt when the session reloads.
    let save = Action::new(|patch: &UserPatch| {
        let patch = patch.clone();
        async move { update_profile(patch).await }
    });
    // The header shows the display name: reload the session once a save went through.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            session.info.refetch();
        }
    });
    // The token list and the channels must not be rebuilt when the session reloads after a
    // save (that would wipe what the person is typing there): they read the role once,
    // from a resource of their own, outside the session's Suspend. Resources are created
    // here at the page's top, never inside a Suspend (see `ui::session`).
    let role = Resource::new(
        || (),
        |_| async {
            current_user()
                .await
                .ok()
                .flatten()
                .map(|info| info.user.role)
        },
    );
    view! {
        <Title text="个人资料" />
        <h1 class="page-title">"个人资料"</h1>
        <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
            {move || Suspend::new(async move {
                session
                    .info
                    .await
                    .ok()
                    .flatten()
                    .map(|info| view! { <ProfileForm user=info.user save /> })
            })}
        </Transition>
        <section class="card" data-testid="my-channels">
            <h2>"我的通知渠道"</h2>
            <p class="muted hint">
                "提醒优先发到这里的渠道（可分别选择上班、下班提醒），没有时才发到团队渠道。"
            </p>
            <ChannelManager own_only=true />
        </section>
        <section class="card" data-testid="my-channel-order-section">
            <h2>"提醒渠道顺序"</h2>
            <p class="muted hint">
                "按顺序尝试，第一个能用的渠道发送提醒（例如：钉钉工作通知 → 我的 Bark → 团队群）。不设置时用团队默认顺序。"
            </p>
            <ChannelOrderEditor team=false />
        </section>
        <AccessTokens role />
    }
}

fn expiry_label(days: Option<u32>) -> String {
    match days {
        Some(days) => format!("{days} 天"),
        None => "永不过期".to_owned(),
    }
}

fn short_time(at: chrono::DateTime<chrono::Utc>) -> String {
    // China time (UTC+8 all year), the same on the server and in the browser so hydration
    // matches. A fixed offset, not chrono_tz: any `Tz` value links the whole time-zone
    // database into the WASM.
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    at.with_timezone(&china)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Personal access tokens for scripts calling the REST API: created here, shown once.
#[component]
fn AccessTokens(role: Resource<Option<crate::domain::Role>>) -> impl IntoView {
    let create = Action::new(|request: &NewAccessToken| {
        let request = request.clone();
        async move { create_access_token(request).await }
    });
    let revoke = Action::new(|id: &i32| {
        let id = *id;
        async move { revoke_access_token(id).await }
    });
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_access_tokens(),
    );
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::Read.as_str().to_owned());
    let expiry = RwSignal::new("90".to_owned());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        create.dispatch(NewAccessToken {
            name: name.get(),
            scope: TokenScope::parse(&scope.get()).unwrap_or(TokenScope::Read),
            expires_in_days: expiry.get().parse().ok(),
        });
    };
    view! {
        <section class="card" data-testid="access-tokens">
            <h2>"个人访问令牌"</h2>
            <p class="muted hint">
                "脚本调用本系统 API 时使用（"<code>"Authorization: Bearer <令牌>"</code>
                "）。令牌只代表您本人，权限不超过您的角色；只读令牌不能修改数据。令牌只在创建时显示一次。"
            </p>
            <form class="form" on:submit=submit data-testid="new-token-form">
                <label>
                    "名称"
                    <input
                        bind:value=name
                        name="token_name"
                        required
                        maxlength=NAME_MAX_CHARS.to_string()
                        placeholder="例如：考勤脚本"
                    />
                </label>
                <label>
                    "权限"
                    <Transition fallback=|| view! { <select name="token_scope" disabled></select> }>
                        {move || Suspend::new(async move {
                            let scopes = role.await.map(TokenScope::allowed_for).unwrap_or_default();
                            view! {
                                <select name="token_scope" bind:value=scope>
                                    {scopes
                                        .iter()
                                        .map(|scope| {
                                            view! { <option value=scope.as_str()>{scope.label()}</option> }
                                        })
                                        .collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>
                    "有效期"
                    <select name="token_expiry" bind:value=expiry>
                        {EXPIRY_CHOICES
                            .iter()
                            .map(|days| {
                                let value = days.map(|d| d.to_string()).unwrap_or_default();
                                view! { <option value=value>{expiry_label(*days)}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" class="button" disabled=move || create.pending().get()>
                    "创建令牌"
                </button>
            </form>
            {move || match create.value().get() {
                Some(Ok(created)) => view! {
                    <div class="alert ok" role="status">
                        <p>"令牌已创建。请立即复制保存，它不会再次显示："</p>
                        <code class="token" data-testid="new-token">{created.token}</code>
                    </div>
                }
                    .into_any(),
                Some(Err(error)) => view! {
                    <p class="alert error" role="alert">{describe_error(&error)}</p>
                }
                    .into_any(),
                None => ().into_any(),
            }}
            <ActionResult value=move || revoke.value().get() success="令牌已吊销" />
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(error) => view! {
                            <p class="alert error" role="alert">{describe_error(&error)}</p>
                        }
                            .into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted empty-state">"还没有令牌。"</p>
                        }
                            .into_any(),
                        Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokenTable(
    list: Vec<AccessTokenView>,
    revoke: Action<i32, Result<(), crate::AppError>>,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="token-table">
                <thead>
                    <tr>
                        <th scope="col">"名称"</th>
                        <th scope="col">"权限"</th>
                        <th scope="col">"令牌开头"</th>
                        <th scope="col">"过期"</th>
                        <th scope="col">"最近使用"</th>
                        <th scope="col">"操作"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|token| {
                            let id = token.id;
                            let expires = match (token.expired, token.expires_at) {
                                (true, _) => "已过期".to_owned(),
                                (false, Some(at)) => short_time(at),
                                (false, None) => "永不过期".to_owned(),
                            };
                            let used = token
                                .last_used_at
                                .map(short_time)
                                .unwrap_or_else(|| "从未使用".to_owned());
                            view! {
                                <tr>
                                    <td>{token.name}</td>
                                    <td>{token.scope.label()}</td>
                                    <td><code>{format!("{}…", token.prefix)}</code></td>
                                    <td>{expires}</td>
                                    <td>{used}</td>
                                    <td>
                                        <button
                                            type="button"
                                            class="button ghost danger"
                                            on:click=move |_| {
                                                revoke.dispatch(id);
                                            }
                                        >
                                            "吊销"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ProfileForm(
    user: crate::wire::UserView,
    save: Action<UserPatch, Result<crate::wire::UserView, crate::AppError>>,
) -> impl IntoView {
    let display_name = RwSignal::new(user.display_name.clone());
    let mobile = RwSignal::new(user.mobile.clone().unwrap_or_default());
    let dingtalk = RwSignal::new(user.dingtalk_user_id.clone().unwrap_or_default());
    let feishu = RwSignal::new(user.feishu_open_id.clone().unwrap_or_default());
    let wecom = RwSignal::new(user.wecom_user_id.clone().unwrap_or_default());
    let email = RwSignal::new(user.email.clone().unwrap_or_default());
    let reminders = RwSignal::new(user.reminders_enabled);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        save.dispatch(UserPatch {
            display_name: Some(display_name.get()),
            mobile: Some(Some(mobile.get())),
            dingtalk_user_id: Some(Some(dingtalk.get())),
            feishu_open_id: Some(Some(feishu.get())),
            wecom_user_id: Some(Some(wecom.get())),
            email: Some(Some(email.get())),
            reminders_enabled: Some(reminders.get()),
            ..UserPatch::default()
        });
    };
    view! {
        <form class="card form" on:submit=submit data-testid="profile-form">
            <p class="muted">
                "用户名：" <strong>{user.username.clone()}</strong> " · 角色："
                {user.role.label()}
            </p>
            <label>
                "显示名称"
                <input bind:value=display_name required maxlength="64" name="display_name" />
            </label>
            <ContactFields mobile dingtalk feishu wecom email />
            <label class="check">
                <input type="checkbox" name="reminders_enabled" bind:checked=reminders />
                "接收上下班打卡提醒"
            </label>
            <ActionResult value=move || save.value().get() success="已保存" />
            <button type="submit" class="button" disabled=move || save.pending().get()>
                "保存"
            </button>
        </form>
    }
}
