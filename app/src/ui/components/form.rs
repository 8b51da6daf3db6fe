//! Small pieces every form and list uses.

use leptos::prelude::*;

use crate::AppError;

/// The Chinese label of an API field name, for error messages.
pub fn field_label(field: &str) -> &str {
    match field {
        "username" => "用户名",
        "display_name" => "显示名称",
        "mobile" => "手机号",
        "dingtalk_user_id" => "钉钉 userId",
        "feishu_open_id" => "飞书 open_id",
        "wecom_user_id" => "企业微信 userid",
        "email" => "邮箱",
        "file" => "文件",
        "role" => "角色",
        "active" => "状态",
        "password" => "密码",
        "current" => "当前密码",
        "new" => "新密码",
        "confirm" => "确认新密码",
        "from" => "开始日期",
        "to" => "结束日期",
        "q" => "搜索词",
        other => other,
    }
}

/// An error as a sentence for the user: "用户名：最多 32 个字符".
pub fn describe_error(error: &AppError) -> String {
    match error.field() {
        Some(field) => format!("{}：{}", field_label(field), error.message()),
        None => error.to_string(),
    }
}

/// Shows the last result of an action: its error, or `success` once it succeeded.
#[component]
pub fn ActionResult<T: 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
    #[prop(into)] success: String,
) -> impl IntoView {
    move || match value() {
        Some(Err(error)) => {
            view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any()
        }
        Some(Ok(_)) if !success.is_empty() => {
            view! { <p class="alert ok" role="status">{success.clone()}</p> }.into_any()
        }
        _ => ().into_any(),
    }
}

/// Previous / next with "第 N / M 页，共 T 条".
#[component]
pub fn Pager(page: RwSignal<u64>, per_page: u64, total: u64) -> impl IntoView {
    let pages = total.div_ceil(per_page).max(1);
    view! {
        <nav class="pager" aria-label="分页">
            <button
                type="button"
                class="button secondary"
                disabled=move || { page.get() <= 1 }
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
            >
                "上一页"
            </button>
            <span class="muted">
                {move || format!("第 {} / {} 页，共 {} 条", page.get(), pages, total)}
            </span>
            <button
                type="button"
                class="button secondary"
                disabled=move || { page.get() >= pages }
                on:click=move |_| page.update(|p| *p += 1)
            >
                "下一页"
            </button>
        </nav>
    }
}

/// `None` for an empty input, the trimmed text otherwise.
pub fn non_empty(value: String) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// An input handler for a list filter: stores the value and goes back to the first page.
pub fn filter_input(
    filter: RwSignal<String>,
    page: RwSignal<u64>,
) -> impl Fn(leptos::ev::Event) + Copy + 'static {
    move |ev| {
        filter.set(event_target_value(&ev));
        page.set(1);
    }
}

/// A list as a table with its pager: the headers, the rows, and where the pages stand.
#[component]
pub fn PagedTable(
    headers: &'static [&'static str],
    page: RwSignal<u64>,
    total: u64,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>{headers.iter().map(|header| view! { <th>{*header}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
        <Pager page per_page=crate::wire::DEFAULT_PAGE_SIZE total />
    }
}

/// The contact fields a reminder needs: mobile (DingTalk @mentions), platform user ids,
/// e-mail. Shared by the profile page and the admin's user form.
#[component]
pub fn ContactFields(
    mobile: RwSignal<String>,
    dingtalk: RwSignal<String>,
    feishu: RwSignal<String>,
    wecom: RwSignal<String>,
    email: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label>
            "手机号（钉钉 @ 提醒用）"
            <input bind:value=mobile inputmode="tel" maxlength="20" name="mobile" placeholder="13800138000" />
        </label>
        <label>
            "钉钉 userId"
            <input bind:value=dingtalk maxlength="64" name="dingtalk_user_id" />
        </label>
        <label>
            "飞书 open_id"
            <input bind:value=feishu maxlength="64" name="feishu_open_id" placeholder="ou_…" />
        </label>
        <label>
            "企业微信 userid"
            <input bind:value=wecom maxlength="64" name="wecom_user_id" />
        </label>
        <label>
            "邮箱"
            <input bind:value=email type="email" maxlength="254" name="email" />
        </label>
    }
}
