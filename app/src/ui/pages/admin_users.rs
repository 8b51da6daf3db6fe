//! 用户管理: list with search and paging, create, edit, role, deactivate/reactivate,
//! reset password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{create_user, list_users, reset_user_password, update_user};
use crate::domain::Role;
use crate::ui::components::form::{
    ActionResult, ContactFields, PagedTable, describe_error, filter_input, non_empty,
};
use crate::ui::session::SessionContext;
use crate::wire::{DEFAULT_PAGE_SIZE, Listed, NewUser, UserPatch, UserQuery, UserView};

/// Which panel is open above the list.
#[derive(Clone, PartialEq)]
enum Panel {
    None,
    Create,
    Edit(UserView),
    ResetPassword(UserView),
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let session = SessionContext::current();
    let search = RwSignal::new(String::new());
    let role_filter = RwSignal::new(String::new());
    let status_filter = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let version = RwSignal::new(0u32);
    let panel = RwSignal::new(Panel::None);

    let users = Resource::new(
        move || {
            (
                search.get(),
                role_filter.get(),
                status_filter.get(),
                page.get(),
                version.get(),
            )
        },
        |(q, role, status, page, _)| async move {
            list_users(UserQuery {
                q: non_empty(q),
                role: Role::parse(&role).ok(),
                active: match status.as_str() {
                    "active" => Some(true),
                    "inactive" => Some(false),
                    _ => None,
                },
                page: Some(page),
                per_page: Some(DEFAULT_PAGE_SIZE),
            })
            .await
        },
    );
    let reload = move || version.update(|v| *v += 1);

    let toggle_active = Action::new(|user: &UserView| {
        let (id, active) = (user.id, !user.active);
        async move {
            update_user(
                id,
                UserPatch {
                    active: Some(active),
                    ..UserPatch::default()
                },
            )
            .await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = toggle_active.value().get() {
            reload();
        }
    });
    view! {
        <Title text="用户管理" />
        <div class="page-head">
            <h1 class="page-title">"用户管理"</h1>
            <button type="button" class="button" on:click=move |_| panel.set(Panel::Create)>
                "新建用户"
            </button>
        </div>
        {move || match panel.get() {
            Panel::None => ().into_any(),
            Panel::Create => {
                view! {
                    <UserForm
                        existing=None
                        on_done=move || {
                            panel.set(Panel::None);
                            reload();
                        }
                        on_cancel=move || panel.set(Panel::None)
                    />
                }
                    .into_any()
            }
            Panel::Edit(user) => {
                view! {
                    <UserForm
                        existing=Some(user)
                        on_done=move || {
                            panel.set(Panel::None);
                            reload();
                            session.info.refetch();
                        }
                        on_cancel=move || panel.set(Panel::None)
                    />
                }
                    .into_any()
            }
            Panel::ResetPassword(user) => {
                view! { <ResetPasswordForm user on_cancel=move || panel.set(Panel::None) /> }
                    .into_any()
            }
        }}
        <section class="card">
            <div class="filters">
                <input
                    type="search"
                    placeholder="搜索用户名、姓名、手机号、邮箱"
                    aria-label="搜索"
                    maxlength="64"
                    prop:value=move || search.get()
                    on:input=filter_input(search, page)
                />
                <select
                    aria-label="角色"
                    on:change=filter_input(role_filter, page)
                >
                    <option value="">"全部角色"</option>
                    <option value="admin">"管理员"</option>
                    <option value="member">"成员"</option>
                </select>
                <select
                    aria-label="状态"
                    on:change=filter_input(status_filter, page)
                >
                    <option value="">"全部状态"</option>
                    <option value="active">"启用"</option>
                    <option value="inactive">"已停用"</option>
                </select>
            </div>
            <ActionResult value=move || toggle_active.value().get() success="" />
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(error) => {
                            view! { <p class="alert error">{describe_error(&error)}</p> }.into_any()
                        }
                        Ok(list) if list.items.is_empty() => {
                            view! { <p class="muted empty-state">"没有符合条件的用户"</p> }.into_any()
                        }
                        Ok(list) => {
                            let total = list.total;
                            let rows = list
                                .items
                                .into_iter()
                                .map(|Listed { item: user, local_time }| {
                                    let edit = user.clone();
                                    let reset = user.clone();
                                    let toggle = user.clone();
                                    let last_login = local_time
                                        .unwrap_or_else(|| "从未登录".to_owned());
                                    view! {
                                        <tr data-testid="user-row" class:inactive=!user.active>
                                            <td>
                                                <strong>{user.username.clone()}</strong>
                                                <div class="muted">{user.display_name.clone()}</div>
                                            </td>
                                            <td>{user.role.label()}</td>
                                            <td>
                                                {if user.active {
                                                    view! { <span class="badge ok">"启用"</span> }.into_any()
                                                } else {
                                                    view! { <span class="badge off">"已停用"</span> }.into_any()
                                                }}
                                                {user
                                                    .must_change_password
                                                    .then(|| view! { <span class="badge warn">"待改密"</span> })}
                                            </td>
                                            <td>{user.mobile.clone().unwrap_or_default()}</td>
                                            <td class="muted">{last_login}</td>
                                            <td class="actions">
                                                <button
                                                    type="button"
                                                    class="link-button"
                                                    on:click=move |_| panel.set(Panel::Edit(edit.clone()))
                                                >
                                                    "编辑"
                                                </button>
                                                <button
                                                    type="button"
                                                    class="link-button"
                                                    on:click=move |_| {
                                                        panel.set(Panel::ResetPassword(reset.clone()))
                                                    }
                                                >
                                                    "重置密码"
                                                </button>
                                                <button
                                                    type="button"
                                                    class="link-button"
                                                    on:click=move |_| {
                                                        toggle_active.dispatch(toggle.clone());
                                                    }
                                                >
                                                    {if user.active { "停用" } else { "启用" }}
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <PagedTable headers=&["用户", "角色", "状态", "手机号", "最近登录", "操作"] page total>
                                    {rows}
                                </PagedTable>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// Create (no `existing`) or edit a user.
#[component]
fn UserForm(
    existing: Option<UserView>,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
    on_cancel: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = existing.clone();
    let value = |f: fn(&UserView) -> Option<String>| {
        RwSignal::new(existing.as_ref().and_then(f).unwrap_or_default())
    };
    let username = value(|u| Some(u.username.clone()));
    let display_name = value(|u| Some(u.display_name.clone()));
    let mobile = value(|u| u.mobile.clone());
    let dingtalk = value(|u| u.dingtalk_user_id.clone());
    let feishu = value(|u| u.feishu_open_id.clone());
    let wecom = value(|u| u.wecom_user_id.clone());
    let email = value(|u| u.email.clone());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(
        existing
            .as_ref()
            .map_or(Role::Member, |u| u.role)
            .as_str()
            .to_owned(),
    );

    let save = Action::new(move |_: &()| {
        let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        let (username, display_name) = (username.get_untracked(), display_name.get_untracked());
        let optional = |signal: RwSignal<String>| signal.get_untracked();
        let (mobile, dingtalk, feishu, wecom, email) = (
            optional(mobile),
            optional(dingtalk),
            optional(feishu),
            optional(wecom),
            optional(email),
        );
        let password = password.get_untracked();
        let id = editing.as_ref().map(|u| u.id);
        async move {
            match id {
                Some(id) => update_user(
                    id,
                    UserPatch {
                        username: Some(username),
                        display_name: Some(display_name),
                        mobile: Some(Some(mobile)),
                        dingtalk_user_id: Some(Some(dingtalk)),
                        feishu_open_id: Some(Some(feishu)),
                        wecom_user_id: Some(Some(wecom)),
                        email: Some(Some(email)),
                        role: Some(role),
                        active: None,
                        reminders_enabled: None,
                    },
                )
                .await
                .map(|_| ()),
                None => create_user(NewUser {
                    username,
                    password,
                    display_name: non_empty(display_name),
                    mobile: non_empty(mobile),
                    dingtalk_user_id: non_empty(dingtalk),
                    feishu_open_id: non_empty(feishu),
                    wecom_user_id: non_empty(wecom),
                    email: non_empty(email),
                    role: Some(role),
                    active: Some(true),
                    reminders_enabled: Some(true),
                    must_change_password: Some(true),
                })
                .await
                .map(|_| ()),
            }
        }
    });
    let done = on_done.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            done();
        }
    });
    let creating = existing.is_none();
    let title = if creating {
        "新建用户"
    } else {
        "编辑用户"
    };
    view! {
        <form
            class="card form"
            data-testid="user-form"
            on:submit=move |event| {
                event.prevent_default();
                save.dispatch(());
            }
        >
            <h2>{title}</h2>
            <div class="form-grid">
                <label>
                    "用户名"
                    <input bind:value=username required maxlength="32" name="username" />
                    <small class="muted">"字母、数字、_ . - 或汉字，最多 32 个字符"</small>
                </label>
                <label>
                    "显示名称"
                    <input bind:value=display_name maxlength="64" name="display_name" />
                </label>
                {creating
                    .then(|| {
                        view! {
                            <label>
                                "初始密码"
                                <input
                                    type="password"
                                    bind:value=password
                                    required
                                    minlength="8"
                                    maxlength="128"
                                    autocomplete="new-password"
                                    name="password"
                                />
                                <small class="muted">"用户首次登录后须修改"</small>
                            </label>
                        }
                    })}
                <label>
                    "角色"
                    <select name="role" on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="member" selected=move || role.get() == "member">
                            "成员"
                        </option>
                        <option value="admin" selected=move || role.get() == "admin">
                            "管理员"
                        </option>
                    </select>
                </label>
                <ContactFields mobile dingtalk feishu wecom email />
            </div>
            <ActionResult value=move || save.value().get() success="" />
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || save.pending().get()>
                    "保存"
                </button>
                <button type="button" class="button secondary" on:click=move |_| on_cancel()>
                    "取消"
                </button>
            </div>
        </form>
    }
}

#[component]
fn ResetPasswordForm(
    user: UserView,
    on_cancel: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let id = user.id;
    let reset = Action::new(move |password: &String| {
        let password = password.clone();
        async move { reset_user_password(id, password).await }
    });
    view! {
        <form
            class="card form"
            data-testid="reset-password-form"
            on:submit=move |event| {
                event.prevent_default();
                reset.dispatch(password.get_untracked());
            }
        >
            <h2>{format!("重置 {} 的密码", user.username)}</h2>
            <p class="muted">"该用户的所有登录会被退出，下次登录时须修改此临时密码。"</p>
            <label>
                "临时密码"
                <input
                    type="password"
                    bind:value=password
                    required
                    minlength="8"
                    maxlength="128"
                    autocomplete="new-password"
                />
            </label>
            <ActionResult value=move || reset.value().get() success="密码已重置" />
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || reset.pending().get()>
                    "重置密码"
                </button>
                <button type="button" class="button secondary" on:click=move |_| on_cancel()>
                    "关闭"
                </button>
            </div>
        </form>
    }
}
