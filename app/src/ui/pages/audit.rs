//! 操作日志: the audit log, filtered by user, kind and date range.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_audit, list_users};
use crate::domain::audit::{AuditKind, kind_label};
use crate::ui::components::form::{PagedTable, describe_error, filter_input, non_empty};
use crate::wire::{AuditQuery, DEFAULT_PAGE_SIZE, Listed, UserQuery};

#[component]
pub fn AuditPage() -> impl IntoView {
    let user = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let users = Resource::new(
        || (),
        |_| {
            list_users(UserQuery {
                per_page: Some(100),
                ..UserQuery::default()
            })
        },
    );
    let entries = Resource::new(
        move || (user.get(), kind.get(), from.get(), to.get(), page.get()),
        |(user, kind, from, to, page)| {
            list_audit(AuditQuery {
                user_id: user.parse().ok(),
                kind: non_empty(kind),
                from: non_empty(from),
                to: non_empty(to),
                page: Some(page),
                per_page: Some(DEFAULT_PAGE_SIZE),
            })
        },
    );
    let on_filter = move |signal| filter_input(signal, page);

    view! {
        <Title text="操作日志" />
        <h1 class="page-title">"操作日志"</h1>
        <section class="card">
            <div class="filters">
                <Transition fallback=|| view! { <select aria-label="用户" disabled></select> }>
                    {move || Suspend::new(async move {
                        let options = users
                            .await
                            .map(|list| list.items)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|u| {
                                view! {
                                    <option value=u.item.id.to_string()>
                                        {format!("{}（{}）", u.item.display_name, u.item.username)}
                                    </option>
                                }
                            })
                            .collect_view();
                        view! {
                            <select aria-label="用户" on:change=on_filter(user)>
                                <option value="">"全部用户"</option>
                                {options}
                            </select>
                        }
                    })}
                </Transition>
                <select aria-label="类型" on:change=on_filter(kind)>
                    <option value="">"全部类型"</option>
                    {AuditKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                        .collect_view()}
                </select>
                <label class="inline">
                    "从" <input type="date" aria-label="开始日期" on:change=on_filter(from) />
                </label>
                <label class="inline">
                    "到" <input type="date" aria-label="结束日期" on:change=on_filter(to) />
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(error) => {
                            view! { <p class="alert error">{describe_error(&error)}</p> }.into_any()
                        }
                        Ok(list) if list.items.is_empty() => {
                            view! { <p class="muted empty-state">"没有符合条件的记录"</p> }.into_any()
                        }
                        Ok(list) => {
                            let total = list.total;
                            let rows = list
                                .items
                                .into_iter()
                                .map(|Listed { item: entry, local_time }| {
                                    view! {
                                        <tr data-testid="audit-row">
                                            <td class="nowrap">{local_time.unwrap_or_default()}</td>
                                            <td>{kind_label(&entry.kind).to_owned()}</td>
                                            <td>{entry.actor_name}</td>
                                            <td>{entry.subject.unwrap_or_default()}</td>
                                            <td class="muted">{entry.ip.unwrap_or_default()}</td>
                                            <td class="muted">{entry.detail.unwrap_or_default()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <PagedTable headers=&["时间", "类型", "操作人", "对象", "IP", "详情"] page total>
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
