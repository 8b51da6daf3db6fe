//! 提醒预览 (`/reminders`): the reminders that will be sent in a date range, grouped by day,
//! the days without one and why, and "我已打卡" to record a punch by hand.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_shifts, load_upcoming, record_punch};
use crate::domain::period::weekday_name;
use crate::ui::components::calendar::ShiftChip;
use crate::ui::components::form::describe_error;
use crate::ui::components::reminder::{fires_on, hhmm, kind_label, kind_text, month_day};
use crate::ui::session::SessionContext;
use crate::wire::{NewPunch, ShiftView, UpcomingQuery, UpcomingReminder, UpcomingView};

fn parse_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

fn day_title(date: NaiveDate) -> String {
    format!("{} 周{}", date.format("%Y-%m-%d"), weekday_name(date))
}

#[component]
pub fn RemindersPage() -> impl IntoView {
    let session = SessionContext::current();
    // Empty until chosen: the server's default range (today and the next six days).
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let person = RwSignal::new(String::new());
    let upcoming = Resource::new(
        move || (from.get(), to.get(), person.get()),
        |(from, to, person)| {
            load_upcoming(UpcomingQuery {
                from: parse_date(&from),
                to: parse_date(&to),
                user_id: person.parse().ok(),
            })
        },
    );
    let shifts = Resource::new(|| (), |_| list_shifts(true));
    let members = Resource::new(|| (), move |_| session.load_team());
    // The range shown in the inputs: what was chosen, else what the server used.
    let shown_from = RwSignal::new(String::new());
    let shown_to = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(view)) = upcoming.get() {
            shown_from.set(view.from.to_string());
            shown_to.set(view.to.to_string());
        }
    });
    let shown = move |chosen: RwSignal<String>, loaded: RwSignal<String>| {
        move || {
            let value = chosen.get();
            if value.is_empty() {
                loaded.get()
            } else {
                value
            }
        }
    };

    view! {
        <Title text="提醒预览" />
        <h1 class="page-title">"提醒预览"</h1>
        <PunchCard />
        <section class="card">
            <div class="filters" id="upcoming-filters">
                <label class="inline">
                    "从"
                    <input type="date" name="from" aria-label="开始日期"
                        prop:value=shown(from, shown_from)
                        on:change=move |ev| from.set(event_target_value(&ev)) />
                </label>
                <label class="inline">
                    "到"
                    <input type="date" name="to" aria-label="结束日期"
                        prop:value=shown(to, shown_to)
                        on:change=move |ev| to.set(event_target_value(&ev)) />
                </label>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = members.await;
                        (!list.is_empty()).then(|| view! {
                            <select name="user_id" aria-label="人员" data-testid="upcoming-person"
                                on:change=move |ev| person.set(event_target_value(&ev))>
                                <option value="">"全部"</option>
                                {list.into_iter().map(|member| view! {
                                    <option value=member.id.to_string() selected=person.get_untracked() == member.id.to_string()>
                                        {member.display_name}
                                    </option>
                                }).collect_view()}
                            </select>
                        })
                    })}
                </Transition>
            </div>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let shift_list = shifts.await.unwrap_or_default();
                    match upcoming.await {
                        Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                        Ok(view) => view! { <UpcomingBody view shifts=shift_list /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Reminders in the preview's server-rendered HTML (more than a phone screen holds); the
/// browser renders the rest right after hydration from the data it already has. A
/// 200-person team's week rendered whole made a 1.4 MB page; every row rendered on the
/// server is also in the hydration data, so few are.
const SERVER_RENDERED_ROWS: usize = 40;

#[component]
fn UpcomingBody(view: UpcomingView, shifts: Vec<ShiftView>) -> impl IntoView {
    let shifts: HashMap<i32, ShiftView> = shifts.into_iter().map(|s| (s.id, s)).collect();
    let names: HashMap<i32, String> = view
        .users
        .iter()
        .map(|user| (user.id, user.display_name.clone()))
        .collect();
    let name_of = move |id: i32| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let mut by_date: BTreeMap<NaiveDate, Vec<UpcomingReminder>> = BTreeMap::new();
    for item in view.reminders {
        by_date.entry(item.date).or_default().push(item);
    }
    let count = by_date.values().map(Vec::len).sum::<usize>();
    let rows_limit = crate::ui::rows_until_hydrated(SERVER_RENDERED_ROWS);
    let banner = (!view.sending_enabled).then(|| {
        view! {
            <p class="alert warning" role="alert" id="sending-disabled-banner">
                "提醒发送已关闭：以下提醒只作预览，到时不会发送。"
            </p>
        }
    });
    let table = if by_date.is_empty() {
        view! { <p class="muted empty-state" data-testid="no-upcoming">"这段时间没有提醒"</p> }
            .into_any()
    } else {
        let name_of = name_of.clone();
        view! {
            <div class="table-wrap">
                <table class="table" id="upcoming-table" data-count=count.to_string()>
                    <thead>
                        <tr><th>"时间"</th><th>"人员"</th><th>"类型"</th><th>"班次"</th><th>"渠道"</th></tr>
                    </thead>
                    {move || {
                    let mut budget = rows_limit.get();
                    by_date.clone().into_iter().map_while(|(date, mut items)| {
                        if budget == 0 {
                            return None;
                        }
                        items.truncate(budget);
                        budget -= items.len();
                        let name_of = name_of.clone();
                        let shifts = shifts.clone();
                        Some(view! {
                            <tbody data-date=date.to_string()>
                                <tr class="group-row">
                                    <th colspan="5">{day_title(date)}</th>
                                </tr>
                                {items.into_iter().map(|item| {
                                    // Grouped by the shift's date; a reminder firing on another day shows its own.
                                    let own_day = (!fires_on(&item.at, date)).then(|| format!("{} ", month_day(&item.at)));
                                    let shift = shifts.get(&item.shift_id).cloned();
                                    view! {
                                        <tr
                                            data-testid="upcoming-row"
                                            data-kind=item.kind.clone()
                                            data-sequence=item.sequence.to_string()
                                            data-date=date.to_string()
                                            data-user=item.user_id.to_string()
                                        >
                                            <td class="nowrap" title=item.at.clone()>
                                                {own_day}
                                                <b>{hhmm(&item.at)}</b>
                                            </td>
                                            <td>{name_of(item.user_id)}</td>
                                            <td>{kind_text(&item.kind, item.sequence)}</td>
                                            <td>{match shift {
                                                Some(shift) => view! { <ShiftChip shift /> }.into_any(),
                                                None => view! { <span class="muted">{format!("班次 #{}", item.shift_id)}</span> }.into_any(),
                                            }}</td>
                                            <td class:muted=item.channel_id.is_none()>{item.channel.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        })
                    }).collect_view()
                    }}
                </table>
                {move || {
                    let hidden = count.saturating_sub(rows_limit.get());
                    (hidden > 0).then(|| view! { <p class="muted">{format!("正在显示其余 {hidden} 条……")}</p> })
                }}
            </div>
        }
        .into_any()
    };
    let none = view.none;
    view! {
        {banner}
        <p class="muted">{format!("{} 至 {}，共 {count} 条提醒", view.from, view.to)}</p>
        {table}
        <h2 class="section-title">"没有提醒的日子"</h2>
        {if none.is_empty() {
            view! { <p class="muted" data-testid="no-reminder-days-empty">"每天都有提醒"</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table" id="no-reminder-days">
                        <thead><tr><th>"日期"</th><th>"人员"</th><th>"原因"</th></tr></thead>
                        <tbody>
                            {move || {
                                let name_of = name_of.clone();
                                none.iter().take(rows_limit.get()).map(move |day| view! {
                                    <tr data-reason=day.reason.clone() data-date=day.date.to_string() data-user=day.user_id.to_string()>
                                        <td class="nowrap">{day_title(day.date)}</td>
                                        <td>{name_of(day.user_id)}</td>
                                        <td><span class=reason_class(&day.reason)>{day.label.clone()}</span></td>
                                    </tr>
                                }).collect_view()
                            }}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

fn reason_class(reason: &str) -> &'static str {
    match reason {
        "holiday" | "rest_day" => "badge ok",
        "no_schedule" => "badge off",
        _ => "badge warn",
    }
}

/// "我已打卡": records a punch for myself now, so the follow-up reminders stop.
#[component]
fn PunchCard() -> impl IntoView {
    let punch = Action::new(|kind: &String| {
        let kind = kind.clone();
        async move {
            record_punch(NewPunch {
                kind,
                ..NewPunch::default()
            })
            .await
        }
    });
    let button = move |kind: &'static str| {
        view! {
            <button
                type="button"
                class="button"
                class:ghost=kind == "clock_out"
                data-testid=format!("punch-{}", kind.replace('_', "-"))
                disabled=move || punch.pending().get()
                on:click=move |_| { punch.dispatch(kind.to_owned()); }
            >
                {format!("我已{}打卡", kind_label(kind))}
            </button>
        }
    };
    view! {
        <section class="card" id="punch-form">
            <div class="row-form">
                <strong>"我已打卡"</strong>
                <span class="muted">"记录后，本次的再提醒不再发送。"</span>
                {button("clock_in")}
                {button("clock_out")}
            </div>
            {move || match punch.value().get() {
                Some(Ok(done)) => view! {
                    <p class="alert ok" role="status" id="punch-result" data-kind=done.kind.clone()>
                        {format!("已记录{}打卡：{}", kind_label(&done.kind), hhmm(&done.at))}
                    </p>
                }.into_any(),
                Some(Err(error)) => view! {
                    <p class="alert error" role="alert" id="punch-result">{describe_error(&error)}</p>
                }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
