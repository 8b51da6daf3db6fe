//! The order in which channels are tried, per reminder kind: a person's own (profile page)
//! or the team's default (settings page). Channels are added from a list, moved up and
//! down, removed, and the order is saved whole.

use leptos::prelude::*;

use crate::api::{list_channels, load_channel_order, save_channel_order};
use crate::ui::components::form::describe_error;
use crate::wire::{ChannelOrder, ChannelView};

const KINDS: [(&str, &str); 2] = [("clock_in", "上班提醒"), ("clock_out", "下班提醒")];

/// `team`: the team's default order (team channels only, saved by admins); else the
/// signed-in person's own (their channels and the team's).
#[component]
pub fn ChannelOrderEditor(team: bool) -> impl IntoView {
    let channels = Resource::new(|| (), |_| list_channels());
    let stored = Resource::new(move || (), move |_| load_channel_order(team));
    let lists: [RwSignal<Vec<i32>>; 2] = std::array::from_fn(|_| RwSignal::new(Vec::new()));
    Effect::new(move |_| {
        if let Some(Ok(order)) = stored.get() {
            lists[0].set(order.clock_in);
            lists[1].set(order.clock_out);
        }
    });
    let save = Action::new(move |order: &ChannelOrder| {
        let order = order.clone();
        async move { save_channel_order(team, order).await }
    });
    let testid = if team {
        "team-channel-order"
    } else {
        "my-channel-order"
    };
    view! {
        <div class="channel-order" data-testid=testid>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let usable: Vec<ChannelView> = match channels.await {
                        Ok(list) => list
                            .into_iter()
                            .filter(|channel| channel.active && (!team || channel.user_id.is_none()))
                            .collect(),
                        Err(error) => {
                            return view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any();
                        }
                    };
                    KINDS.iter().enumerate().map(|(index, (kind, label))| {
                        let list = lists[index];
                        let usable = usable.clone();
                        view! {
                            <div class="order-kind" data-kind=*kind>
                                <h3>{*label}</h3>
                                <OrderList list usable=usable.clone() />
                                <AddChannel list usable kind=*kind />
                            </div>
                        }
                    }).collect_view().into_any()
                })}
            </Transition>
            <div class="actions">
                <button type="button" class="button" data-testid="save-channel-order"
                    disabled=move || save.pending().get()
                    on:click=move |_| {
                        save.dispatch(ChannelOrder {
                            clock_in: lists[0].get_untracked(),
                            clock_out: lists[1].get_untracked(),
                        });
                    }>
                    "保存顺序"
                </button>
            </div>
            {move || save.value().get().map(|outcome| match outcome {
                Ok(_) => view! { <p class="alert ok" role="status" data-testid="channel-order-saved">"已保存渠道顺序"</p> }.into_any(),
                Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn OrderList(list: RwSignal<Vec<i32>>, usable: Vec<ChannelView>) -> impl IntoView {
    let name_of = move |id: i32| {
        usable.iter().find(|channel| channel.id == id).map_or_else(
            || format!("渠道 {id}（已停用）"),
            |channel| channel.name.clone(),
        )
    };
    view! {
        {move || {
            let ids = list.get();
            if ids.is_empty() {
                return view! { <p class="muted">"未设置：按默认顺序（自己的渠道 → 团队渠道 → 默认机器人）"</p> }.into_any();
            }
            let count = ids.len();
            view! {
                <ol class="plain-list">
                    {ids.into_iter().enumerate().map(|(position, id)| {
                        let name = name_of(id);
                        view! {
                            <li data-testid="order-item" data-id=id.to_string()>
                                {name}" "
                                <button type="button" class="button ghost" aria-label="上移" disabled=position == 0
                                    on:click=move |_| list.update(|ids| if position > 0 { ids.swap(position, position - 1) })>"↑"</button>
                                <button type="button" class="button ghost" aria-label="下移" disabled=position + 1 == count
                                    on:click=move |_| list.update(|ids| if position + 1 < ids.len() { ids.swap(position, position + 1) })>"↓"</button>
                                <button type="button" class="button ghost" aria-label="移除"
                                    on:click=move |_| list.update(|ids| if position < ids.len() { ids.remove(position); })>"移除"</button>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
    }
}

#[component]
fn AddChannel(
    list: RwSignal<Vec<i32>>,
    usable: Vec<ChannelView>,
    kind: &'static str,
) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    view! {
        <div class="actions">
            <select name=format!("add_{kind}") on:change=move |ev| chosen.set(event_target_value(&ev))>
                <option value="">"选择渠道…"</option>
                {usable.into_iter().map(|channel| view! {
                    <option value=channel.id.to_string()>{channel.name}</option>
                }).collect_view()}
            </select>
            <button type="button" class="button ghost" data-testid=format!("add-{kind}")
                on:click=move |_| {
                    if let Ok(id) = chosen.get_untracked().parse::<i32>() {
                        list.update(|ids| if !ids.contains(&id) { ids.push(id) });
                    }
                }>
                "加入"
            </button>
        </div>
    }
}
