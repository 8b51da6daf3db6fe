//! 发送记录 (`/deliveries`): every reminder's journey to its robot, newest first; admins can
//! send a failed, missed or switched-off one again.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{load_deliveries, retry_delivery};
use crate::ui::components::form::{Pager, describe_error, filter_input, non_empty};
use crate::ui::components::reminder::{
    DELIVERY_STATUSES, kind_text, lateness_text, local_datetime, retryable, status_class, truncate,
};
use crate::ui::session::SessionContext;
use crate::wire::{DeliveryQuery, DeliveryView};

const PER_PAGE: u64 = 50;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let session = SessionContext::current();
    let user = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let version = RwSignal::new(0u32);
    let date = |raw: &str| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    let deliveries = Resource::new(
        move || {
            (
                user.get(),
                kind.get(),
                status.get(),
                from.get(),
                to.get(),
                page.get(),
                version.get(),
            )
        },
        move |(user, kind, status, from, to, page, _)| {
            load_deliveries(DeliveryQuery {
                user_id: user.parse().ok(),
                kind: non_empty(kind),
                status: non_empty(status),
                from: date(&from),
                to: date(&to),
                page: Some(page),
                per_page: Some(PER_PAGE),
            })
        },
    );
    let members = Resource::new(|| (), move |_| session.load_team());
    let notice = RwSignal::new(None::<Result<String, String>>);
    let retry = Action::new(|id: &i32| {
        let id = *id;
        async move { retry_delivery(id).await }
    });
    Effect::new(move |_| match retry.value().get() {
        Some(Ok(done)) => {
            notice.set(Some(Ok(format!(
                "已重新排队：{} {} {}",
                done.user_name,
                done.date,
                kind_text(&done.kind, done.sequence)
            ))));
            version.update(|v| *v += 1);
        }
        Some(Err(error)) => notice.set(Some(Err(describe_error(&error)))),
        None => {}
    });
    let on_filter = move |signal| filter_input(signal, page);

    view! {
        <Title text="发送记录" />
        <h1 class="page-title">"发送记录"</h1>
        {move || notice.get().map(|notice| match notice {
            Ok(text) => view! { <p class="alert ok" role="status" id="delivery-notice">{text}</p> }.into_any(),
            Err(text) => view! { <p class="alert error" role="alert" id="delivery-notice">{text}</p> }.into_any(),
        })}
        <section class="card">
            <div class="filters" id="delivery-filters">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = members.await;
                        (!list.is_empty()).then(|| view! {
                            <select name="user_id" aria-label="人员" on:change=on_filter(user)>
                                <option value="">"全部人员"</option>
                                {list.into_iter().map(|member| view! {
                                    <option value=member.id.to_string()>{member.display_name}</option>
                                }).collect_view()}
                            </select>
                        })
                    })}
                </Transition>
                <select name="kind" aria-label="类型" on:change=on_filter(kind)>
                    <option value="">"全部类型"</option>
                    <option value="clock_in">"上班"</option>
                    <option value="clock_out">"下班"</option>
                </select>
                <select name="status" aria-label="状态" on:change=on_filter(status)>
                    <option value="">"全部状态"</option>
                    {DELIVERY_STATUSES
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value>{label}</option> })
                        .collect_view()}
                </select>
                <label class="inline">
                    "从" <input type="date" name="from" aria-label="开始日期" on:change=on_filter(from) />
                </label>
                <label class="inline">
                    "到" <input type="date" name="to" aria-label="结束日期" on:change=on_filter(to) />
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let admin = session.load_is_admin().await;
                    match deliveries.await {
                        Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                        Ok(list) if list.items.is_empty() => view! {
                            <p class="muted empty-state" data-testid="no-deliveries">"没有符合条件的发送记录"</p>
                        }.into_any(),
                        Ok(list) => {
                            let total = list.total;
                            let rows = list
                                .items
                                .into_iter()
                                .map(|item| view! { <DeliveryRow item admin retry /> })
                                .collect_view();
                            view! {
                                <div class="table-wrap">
                                    <table class="table" id="deliveries-table" data-total=total.to_string()>
                                        <thead>
                                            <tr>
                                                <th>"应发时间"</th><th>"发送时间"</th><th>"延迟"</th><th>"人员"</th>
                                                <th>"类型"</th><th>"状态"</th><th>"渠道"</th><th>"尝试"</th><th>"结果"</th>
                                                {admin.then(|| view! { <th>"操作"</th> })}
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <Pager page per_page=PER_PAGE total />
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeliveryRow(
    item: DeliveryView,
    admin: bool,
    retry: Action<i32, Result<DeliveryView, crate::AppError>>,
) -> impl IntoView {
    let id = item.id;
    let result = [item.answer.as_deref(), item.check_result.as_deref()]
        .into_iter()
        .flatten()
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let can_retry = admin && retryable(&item.status);
    view! {
        <tr data-testid="delivery-row" data-id=id.to_string() data-status=item.status.clone() data-kind=item.kind.clone()>
            <td class="nowrap" title=item.due_at.clone()>{local_datetime(&item.due_at)}</td>
            <td class="nowrap">{item.sent_at.as_deref().map(local_datetime).unwrap_or_else(|| "—".to_owned())}</td>
            <td class="nowrap" data-testid="lateness">{item.lateness_secs.map(lateness_text).unwrap_or_default()}</td>
            <td>{item.user_name.clone()}</td>
            <td class="nowrap" title=item.shift.clone()>{kind_text(&item.kind, item.sequence)}</td>
            <td class="nowrap"><span class=status_class(&item.status) data-testid="delivery-status">{item.status_label.clone()}</span></td>
            <td>
                {item.channel.clone()}
                {(!item.message_people.is_empty()).then(|| {
                    let people = item.message_people.join("、");
                    let count = item.message_people.len();
                    view! {
                        <span class="badge info" data-testid="merged-message" title=people>
                            {format!("合并发送 · {count} 人")}
                        </span>
                    }
                })}
            </td>
            <td>{item.attempts}</td>
            <td class="muted result-cell" title=result.clone()>{truncate(&result, 40)}</td>
            {admin.then(|| view! {
                <td class="row-actions">
                    {can_retry.then(|| view! {
                        <button
                            type="button"
                            class="link"
                            data-testid="retry-delivery"
                            disabled=move || retry.pending().get()
                            on:click=move |_| { retry.dispatch(id); }
                        >
                            "重发"
                        </button>
                    })}
                </td>
            })}
        </tr>
    }
}
