use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::types::UserPatch;
use crate::api::{ChangePassword, update_profile};
use crate::domain::account::PASSWORD_MIN_CHARS;
use crate::ui::components::form::{ActionResult, ContactFields, describe_error};
use crate::ui::session::SessionContext;

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
    }
}

#[component]
fn ProfileForm(
    user: crate::api::types::UserView,
    save: Action<UserPatch, Result<crate::api::types::UserView, crate::AppError>>,
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
