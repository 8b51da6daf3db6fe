//! 申请 (`/requests`): a form per kind (leave, swap, cover; admins also post open shifts),
//! prefilled with the day chosen in the calendar (`?date=`), and the requests the person
//! may see, with what they may do in one tap: accept, approve, claim … The admins' queue is
//! the "待审批" filter.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{act_on_request, create_request, list_requests, list_shifts, request_colleagues};
use crate::domain::request::{
    Action as RequestAction, DayPart, LeaveType, RequestKind, RequestState,
};
use crate::ui::components::form::{ActionResult, Pager, describe_error, non_empty};
use crate::ui::session::SessionContext;
use crate::wire::{NewRequest, RequestDecision, RequestQuery, RequestView};

const PER_PAGE: u64 = 20;

#[component]
pub fn RequestsPage() -> impl IntoView {
    let session = SessionContext::current();
    let query = use_query_map();
    let chosen_date = query
        .with_untracked(|query| query.get("date"))
        .unwrap_or_default();
    let version = RwSignal::new(0u32);
    let reload = move || version.update(|v| *v += 1);
    let state = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let list = Resource::new(
        move || (state.get(), page.get(), version.get()),
        |(state, page, _)| {
            list_requests(RequestQuery {
                state: non_empty(state).and_then(|state| RequestState::parse(&state)),
                page: Some(page),
                per_page: Some(PER_PAGE),
                ..RequestQuery::default()
            })
        },
    );
    view! {
        <Title text="申请" />
        <h1 class="page-title">"申请与审批"</h1>
        <section class="card">
            <h2>"新申请"</h2>
            <RequestForm chosen_date on_created=reload />
        </section>
        <section class="card">
            <div class="filters">
                <h2>"申请列表"</h2>
                <select aria-label="状态" data-testid="request-state-filter" on:change=move |ev| { state.set(event_target_value(&ev)); page.set(1); }>
                    <option value="">"全部"</option>
                    {RequestState::ALL
                        .into_iter()
                        .map(|state| view! { <option value=state.as_str()>{state.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let admin = session.load_is_admin().await;
                    match list.await {
                        Err(error) => view! { <p class="alert error">{describe_error(&error)}</p> }.into_any(),
                        Ok(found) if found.items.is_empty() => view! { <p class="muted empty-state">"没有申请"</p> }.into_any(),
                        Ok(found) => {
                            let total = found.total;
                            view! {
                                <ul class="request-list" data-testid="request-list">
                                    {found.items.into_iter().map(|request| view! { <RequestRow request admin on_changed=reload /> }).collect_view()}
                                </ul>
                                <Pager page per_page=PER_PAGE total />
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RequestRow(
    request: RequestView,
    admin: bool,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = request.id;
    let reason = RwSignal::new(String::new());
    let confirm = RwSignal::new(false);
    let act = Action::new(move |action: &RequestAction| {
        let action = *action;
        let decision = RequestDecision {
            reason: non_empty(reason.get_untracked()),
            confirm: confirm.get_untracked().then_some(true),
        };
        async move { act_on_request(id, action, decision).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = act.value().get() {
            on_changed();
        }
    });
    // A working-time rule to confirm: the next approval carries `confirm`.
    Effect::new(move |_| {
        if let Some(Err(error)) = act.value().get()
            && error.field() == Some("confirm")
        {
            confirm.set(true);
        }
    });
    let needs_reason = request.actions.iter().any(|action| action.needs_reason());
    let state_class = format!("badge state-{}", request.state.as_str());
    let history = request
        .history
        .iter()
        .map(|event| {
            format!(
                "{} {} {}{}",
                event.at.format("%m-%d %H:%M"),
                event.actor,
                event.action_label,
                event
                    .note
                    .as_ref()
                    .map_or_else(String::new, |note| format!("（{note}）"))
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let title = request.summary();
    let actions = request.actions.clone();
    view! {
        <li class="request" data-testid="request" data-request-id=id.to_string() data-state=request.state.as_str()>
            <div class="request-head">
                <span class="badge">{request.kind_label.clone()}</span>
                <span class=state_class data-testid="request-state">{request.state_label.clone()}</span>
                <span class="request-summary">{title}</span>
            </div>
            {request.reason.clone().map(|text| view! { <p class="muted">{format!("原因：{text}")}</p> })}
            {request.decision_reason.clone().map(|text| view! { <p class="muted">{format!("处理意见：{text}")}</p> })}
            {(admin && !request.warnings.is_empty()).then(|| view! {
                <ul class="alert warn request-warnings">
                    {request.warnings.iter().map(|warning| view! { <li>{warning.clone()}</li> }).collect_view()}
                </ul>
            })}
            {(!actions.is_empty()).then(|| view! {
                <div class="request-actions">
                    {needs_reason.then(|| view! {
                        <input aria-label="原因" placeholder="原因（拒绝、婉拒、撤销时必填）" maxlength="200"
                            prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
                    })}
                    {actions.iter().map(|action| {
                        let action = *action;
                        let danger = matches!(action, RequestAction::Reject | RequestAction::Decline | RequestAction::Revoke | RequestAction::Cancel);
                        view! {
                            <button type="button" class="button" class:danger=danger class:ghost=danger
                                data-testid=format!("request-{}", action.as_str())
                                disabled=move || act.pending().get()
                                on:click=move |_| { act.dispatch(action); }>
                                {move || if action == RequestAction::Approve && confirm.get() { "确认批准".to_owned() } else { action.label().to_owned() }}
                            </button>
                        }
                    }).collect_view()}
                </div>
            })}
            <ActionResult value=move || act.value().get() success="" />
            <p class="muted request-history">{history}</p>
        </li>
    }
}

#[component]
fn RequestForm(
    chosen_date: String,
    on_created: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = SessionContext::current();
    let kind = RwSignal::new(RequestKind::Leave);
    let date = RwSignal::new(chosen_date.clone());
    let to = RwSignal::new(chosen_date);
    let peer_date = RwSignal::new(String::new());
    let peer = RwSignal::new(String::new());
    let shift = RwSignal::new(String::new());
    let leave_type = RwSignal::new(LeaveType::Annual.as_str().to_owned());
    let part = RwSignal::new(DayPart::Full.as_str().to_owned());
    let reason = RwSignal::new(String::new());
    let colleagues = Resource::new(|| (), |_| request_colleagues());
    let shifts = Resource::new(|| (), |_| list_shifts(false));
    let submit = Action::new(move |_: &()| {
        let parse = |field: &'static str, text: String| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| crate::AppError::invalid(field, "请选择日期"))
        };
        let reason = non_empty(reason.get_untracked());
        let input = (|| -> Result<NewRequest, crate::AppError> {
            let date_value = parse("date", date.get_untracked())?;
            let peer_id = || {
                peer.get_untracked()
                    .parse::<i32>()
                    .map_err(|_| crate::AppError::invalid("peer_id", "请选择同事"))
            };
            Ok(match kind.get_untracked() {
                RequestKind::Leave => NewRequest::Leave {
                    from: date_value,
                    to: non_empty(to.get_untracked())
                        .map(|text| parse("to", text))
                        .transpose()?
                        .unwrap_or(date_value),
                    leave_type: LeaveType::parse(&leave_type.get_untracked())
                        .unwrap_or(LeaveType::Other),
                    part: DayPart::parse(&part.get_untracked()),
                    reason,
                    user_id: None,
                },
                RequestKind::Swap => NewRequest::Swap {
                    date: date_value,
                    peer_id: peer_id()?,
                    peer_date: non_empty(peer_date.get_untracked())
                        .map(|text| parse("peer_date", text))
                        .transpose()?,
                    reason,
                    user_id: None,
                },
                RequestKind::Cover => NewRequest::Cover {
                    date: date_value,
                    peer_id: peer_id()?,
                    reason,
                    user_id: None,
                },
                RequestKind::Open => NewRequest::Open {
                    date: date_value,
                    shift_id: shift
                        .get_untracked()
                        .parse()
                        .map_err(|_| crate::AppError::invalid("shift_id", "请选择班次"))?,
                    reason,
                },
            })
        })();
        async move { create_request(input?).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            reason.set(String::new());
            on_created();
        }
    });
    let kind_button = move |value: RequestKind| {
        view! {
            <button type="button" class="button" class:ghost=move || kind.get() != value
                aria-pressed=move || (kind.get() == value).to_string()
                data-testid=format!("request-kind-{}", value.as_str())
                on:click=move |_| kind.set(value)>
                {value.label()}
            </button>
        }
    };
    view! {
        <div class="segmented" role="group" aria-label="申请类型">
            {kind_button(RequestKind::Leave)}
            {kind_button(RequestKind::Swap)}
            {kind_button(RequestKind::Cover)}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    session.load_is_admin().await.then(|| kind_button(RequestKind::Open))
                })}
            </Suspense>
        </div>
        <form class="stack-form request-form" data-testid="request-form" on:submit=move |ev| { ev.prevent_default(); submit.dispatch(()); }>
            <label>
                {move || if kind.get() == RequestKind::Leave { "开始日期" } else { "日期" }}
                <input type="date" name="date" required prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev)) />
            </label>
            <Show when=move || kind.get() == RequestKind::Leave>
                <label>"结束日期"
                    <input type="date" name="to" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) />
                </label>
                <label>"假别"
                    <select name="leave_type" on:change=move |ev| leave_type.set(event_target_value(&ev))>
                        {LeaveType::ALL.into_iter().map(|value| view! {
                            <option value=value.as_str() selected=move || leave_type.get() == value.as_str()>{value.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"时段"
                    <select name="part" on:change=move |ev| part.set(event_target_value(&ev))>
                        {DayPart::ALL.into_iter().map(|value| view! {
                            <option value=value.as_str() selected=move || part.get() == value.as_str()>{value.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </Show>
            <Show when=move || matches!(kind.get(), RequestKind::Swap | RequestKind::Cover)>
                <label>"同事"
                    <Suspense fallback=|| view! { <select disabled></select> }>
                        {move || Suspend::new(async move {
                            let people = colleagues.await.unwrap_or_default();
                            view! {
                                <select name="peer_id" data-testid="request-peer" on:change=move |ev| peer.set(event_target_value(&ev))>
                                    <option value="">"请选择"</option>
                                    {people.into_iter().map(|person| view! {
                                        <option value=person.id.to_string()>{format!("{}（{}）", person.display_name, person.username)}</option>
                                    }).collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                </label>
            </Show>
            <Show when=move || kind.get() == RequestKind::Swap>
                <label>"同事的日期（不填为同一天）"
                    <input type="date" name="peer_date" prop:value=move || peer_date.get() on:input=move |ev| peer_date.set(event_target_value(&ev)) />
                </label>
            </Show>
            <Show when=move || kind.get() == RequestKind::Open>
                <label>"班次"
                    <Suspense fallback=|| view! { <select disabled></select> }>
                        {move || Suspend::new(async move {
                            let options = shifts.await.unwrap_or_default();
                            view! {
                                <select name="shift_id" on:change=move |ev| shift.set(event_target_value(&ev))>
                                    <option value="">"请选择"</option>
                                    {options.into_iter().filter(|option| !option.rest).map(|option| view! {
                                        <option value=option.id.to_string()>{format!("{}（{}-{}）", option.name, option.start, option.end)}</option>
                                    }).collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                </label>
            </Show>
            <label>"原因（可选）"
                <input name="reason" maxlength="200" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class="button primary" data-testid="request-submit" disabled=move || submit.pending().get()>"提交申请"</button>
        </form>
        <ActionResult value=move || submit.value().get() success="已提交" />
    }
}
