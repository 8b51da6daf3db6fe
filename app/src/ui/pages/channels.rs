//! 通知渠道 (`/channels`): the group robots and webhooks reminders go to. Admins manage
//! team-wide channels and anyone's; members manage their own.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::AppError;
use crate::api::{create_channel, delete_channel, list_channels, test_channel, update_channel};
use crate::domain::channel::{ChannelKind, KINDS};
use crate::ui::components::form::{ActionResult, describe_error, non_empty};
use crate::ui::components::reminder::{TestResult, kind_label, platform_label};
use crate::ui::session::SessionContext;
use crate::wire::{ChannelPatch, ChannelTestResult, ChannelView, NewChannel, TeamMember};

#[derive(Clone, PartialEq)]
enum Panel {
    None,
    Create,
    Edit(Box<ChannelView>),
}

fn format_label(format: &str) -> &'static str {
    match format {
        "markdown" => "Markdown",
        _ => "纯文本",
    }
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    view! {
        <Title text="通知渠道" />
        <h1 class="page-title">"通知渠道"</h1>
        <p class="muted hint">
            "提醒先发到本人的渠道，其次是全员渠道，都没有时发到系统设置中的默认机器人。"
        </p>
        <ChannelManager own_only=false />
    }
}

/// The channel list with its add / edit / test / remove. `own_only`: the signed-in
/// person's own channels (the profile page), added for them whatever their role.
#[component]
pub fn ChannelManager(own_only: bool) -> impl IntoView {
    let session = SessionContext::current();
    let version = RwSignal::new(0u32);
    let panel = RwSignal::new(Panel::None);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let reload = move || version.update(|v| *v += 1);
    let channels = Resource::new(move || version.get(), |_| list_channels());
    let members = Resource::new(|| (), move |_| session.load_team());
    let remove = Action::new(|channel: &ChannelView| {
        let (id, name) = (channel.id, channel.name.clone());
        async move { delete_channel(id).await.map(|()| name) }
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(name)) => {
            notice.set(Some(Ok(format!("已删除渠道“{name}”"))));
            reload();
        }
        Some(Err(error)) => notice.set(Some(Err(describe_error(&error)))),
        None => {}
    });
    let test = Action::new(|channel: &ChannelView| {
        let (id, name) = (channel.id, channel.name.clone());
        async move { test_channel(id).await.map(|result| (name, result)) }
    });
    let done = move |text: &str| {
        notice.set(Some(Ok(text.to_owned())));
        panel.set(Panel::None);
        reload();
    };

    view! {
        <div class="page-head">
            <button type="button" class="button" data-testid="new-channel" on:click=move |_| {
                notice.set(None);
                panel.set(Panel::Create);
            }>{if own_only { "添加我的渠道" } else { "新建渠道" }}</button>
        </div>
        {move || {
            let open = panel.get();
            (open != Panel::None).then(|| view! {
                <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                    {move || {
                        let open = open.clone();
                        Suspend::new(async move {
                            let admin = session.load_is_admin().await;
                            let own = if own_only {
                                session.info.await.ok().flatten().map(|info| info.user.id)
                            } else {
                                None
                            };
                            let people = members.await;
                            let existing = match open {
                                Panel::Edit(channel) => Some(*channel),
                                _ => None,
                            };
                            view! {
                                <ChannelForm
                                    existing
                                    admin
                                    own
                                    members=people
                                    on_done=move |created: bool| done(if created { "已创建渠道" } else { "已保存渠道" })
                                    on_cancel=move || panel.set(Panel::None)
                                />
                            }
                        })
                    }}
                </Transition>
            })
        }}
        {move || notice.get().map(|notice| match notice {
            Ok(text) => view! { <p class="alert ok" role="status" id="channel-notice">{text}</p> }.into_any(),
            Err(text) => view! { <p class="alert error" role="alert" id="channel-notice">{text}</p> }.into_any(),
        })}
        {move || {
            if test.pending().get() {
                return Some(view! { <p class="progress" id="channel-test-result"><span class="spinner"></span>"正在发送测试消息…"</p> }.into_any());
            }
            test.value().get().map(|outcome| match outcome {
                Ok((name, result)) => view! {
                    <section class="card" id="channel-test-result">
                        <h2>{format!("测试结果：{name}")}</h2>
                        <TestResult result testid="channel-test" />
                    </section>
                }.into_any(),
                Err(error) => view! {
                    <p class="alert error" role="alert" id="channel-test-result">{describe_error(&error)}</p>
                }.into_any(),
            })
        }}
        <section class="card">
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let info = session.info.await.ok().flatten();
                    let me = info.as_ref().map(|info| info.user.id);
                    let admin = session.load_is_admin().await;
                    let channels = channels.await.map(|list| {
                        list.into_iter()
                            .filter(|channel| !own_only || (channel.user_id.is_some() && channel.user_id == me))
                            .collect::<Vec<_>>()
                    });
                    match channels {
                        Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                        Ok(list) if list.is_empty() && own_only => view! {
                            <p class="muted empty-state" data-testid="no-channels">
                                "还没有自己的渠道：添加 Bark、ntfy、Server酱、PushPlus、WxPusher、Gotify 或电子邮件，提醒就会私下发给你。"
                            </p>
                        }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted empty-state" data-testid="no-channels">
                                "还没有通知渠道：提醒会发到系统设置中的默认机器人。"
                            </p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ChannelTable list me admin panel remove test />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ChannelTable(
    list: Vec<ChannelView>,
    me: Option<i32>,
    admin: bool,
    panel: RwSignal<Panel>,
    remove: Action<ChannelView, Result<String, AppError>>,
    test: Action<ChannelView, Result<(String, ChannelTestResult), AppError>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" id="channels-table">
                <thead>
                    <tr>
                        <th>"名称"</th><th>"平台"</th><th>"网址"</th><th>"加签"</th><th>"格式"</th>
                        <th>"归属"</th><th>"用途"</th><th>"状态"</th><th>"操作"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|channel| {
                        let mine = admin || (channel.user_id.is_some() && channel.user_id == me);
                        let purposes = channel.purposes.iter().map(|p| kind_label(p)).collect::<Vec<_>>().join("、");
                        let owner = match (&channel.user_id, &channel.user_name) {
                            (None, _) => "全员".to_owned(),
                            (Some(_), Some(name)) => name.clone(),
                            (Some(id), None) => format!("#{id}"),
                        };
                        let confirm_text = format!("删除渠道“{}”？", channel.name);
                        let (edit, removing, testing) = (channel.clone(), channel.clone(), channel.clone());
                        view! {
                            <tr
                                data-testid="channel-row"
                                data-id=channel.id.to_string()
                                data-kind=channel.kind.clone()
                                data-active=channel.active.to_string()
                                class:inactive=!channel.active
                            >
                                <td>{channel.name.clone()}</td>
                                <td class="nowrap">{platform_label(&channel.kind)}</td>
                                <td><code class="masked-url">{channel.url.clone()}</code>
                                {(!channel.ignored_params.is_empty()).then(|| view! {
                                    <ul class="muted small ignored-params" data-testid="channel-ignored-params">
                                        {channel.ignored_params.iter().map(|param| view! {
                                            <li>{format!("已忽略 {}：{}", param.name, param.reason)}</li>
                                        }).collect_view()}
                                    </ul>
                                })}</td>
                                <td>{if channel.has_secret { "是" } else { "否" }}</td>
                                <td class="nowrap">{format_label(&channel.format)}</td>
                                <td class="nowrap" data-testid="channel-owner">{owner}</td>
                                <td class="nowrap">{purposes}</td>
                                <td>{if channel.active {
                                    view! { <span class="badge ok">"启用"</span> }.into_any()
                                } else {
                                    view! { <span class="badge off">"停用"</span> }.into_any()
                                }}
                                {channel.last_result.clone().map(|last| view! {
                                    <div class="muted small" data-testid="channel-last-result">{last}</div>
                                })}
                                {channel.banned_until.clone().map(|until| {
                                    let reason = channel.ban_reason.clone().unwrap_or_default();
                                    view! {
                                        <span class="badge warn" data-testid="channel-banned" title=reason>
                                            {format!("被限流，{until} 后恢复")}
                                        </span>
                                    }
                                })}</td>
                                <td class="row-actions">
                                    {mine.then(|| view! {
                                        <button type="button" class="link" data-testid="edit-channel" on:click={
                                            let edit = edit.clone();
                                            move |_| panel.set(Panel::Edit(Box::new(edit.clone())))
                                        }>"编辑"</button>
                                        <button type="button" class="link" data-testid="test-channel"
                                            disabled=move || test.pending().get()
                                            on:click={
                                                let testing = testing.clone();
                                                move |_| { test.dispatch(testing.clone()); }
                                            }>"发送测试消息"</button>
                                        <button type="button" class="link danger" data-testid="delete-channel" on:click={
                                            let removing = removing.clone();
                                            let confirm_text = confirm_text.clone();
                                            move |_| {
                                                if window().confirm_with_message(&confirm_text).unwrap_or(false) {
                                                    remove.dispatch(removing.clone());
                                                }
                                            }
                                        }>"删除"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ChannelForm(
    existing: Option<ChannelView>,
    admin: bool,
    /// Set on the profile page: the channel is this person's own.
    own: Option<i32>,
    members: Vec<TeamMember>,
    on_done: impl Fn(bool) + Clone + Send + Sync + 'static,
    on_cancel: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = existing.clone();
    let is_edit = existing.is_some();
    let masked_url = existing.as_ref().map(|c| c.url.clone());
    let had_secret = existing.as_ref().is_some_and(|c| c.has_secret);
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
    );
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.kind.clone())
            .unwrap_or_default(),
    );
    // The stored URL is never sent back in full: empty keeps it.
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let clear_secret = RwSignal::new(false);
    let format = RwSignal::new(
        existing
            .as_ref()
            .map_or_else(|| "text".to_owned(), |c| c.format.clone()),
    );
    let owner = RwSignal::new(
        existing
            .as_ref()
            .and_then(|c| c.user_id)
            .map(|id| id.to_string())
            .unwrap_or_default(),
    );
    let has_purpose = |purpose: &str| {
        existing
            .as_ref()
            .is_none_or(|c| c.purposes.iter().any(|p| p == purpose))
    };
    let clock_in = RwSignal::new(has_purpose("clock_in"));
    let clock_out = RwSignal::new(has_purpose("clock_out"));
    let active = RwSignal::new(existing.as_ref().is_none_or(|c| c.active));

    let save = Action::new(move |_: &()| {
        let editing = editing.clone();
        let (name, kind, url, secret, clear_secret, format, owner) = (
            name.get_untracked(),
            kind.get_untracked(),
            url.get_untracked(),
            secret.get_untracked(),
            clear_secret.get_untracked(),
            format.get_untracked(),
            owner.get_untracked(),
        );
        let purposes = [
            ("clock_in", clock_in.get_untracked()),
            ("clock_out", clock_out.get_untracked()),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(purpose, _)| purpose.to_owned())
        .collect::<Vec<_>>();
        let active = active.get_untracked();
        async move {
            if purposes.is_empty() {
                return Err(AppError::invalid("purposes", "至少选择上班或下班提醒之一"));
            }
            match editing {
                None => create_channel(NewChannel {
                    name,
                    kind: non_empty(kind),
                    url: url.trim().to_owned(),
                    secret: non_empty(secret),
                    format: Some(format),
                    user_id: match own {
                        Some(me) => Some(me),
                        None if admin => owner.parse().ok(),
                        None => None,
                    },
                    purposes: Some(purposes),
                    active: Some(active),
                })
                .await
                .map(|_| true),
                Some(channel) => update_channel(
                    channel.id,
                    ChannelPatch {
                        name: Some(name),
                        // Empty: recognise the platform from the URL again.
                        kind: Some(kind),
                        url: non_empty(url),
                        secret: if clear_secret {
                            Some(None)
                        } else {
                            non_empty(secret).map(Some)
                        },
                        format: Some(format),
                        user_id: (admin && own.is_none()).then(|| owner.parse().ok()),
                        purposes: Some(purposes),
                        active: Some(active),
                    },
                )
                .await
                .map(|_| false),
            }
        }
    });
    let done = on_done.clone();
    Effect::new(move |_| {
        if let Some(Ok(created)) = save.value().get() {
            done(created);
        }
    });
    let text_input = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    let check_input = |signal: RwSignal<bool>| move |ev| signal.set(event_target_checked(&ev));
    view! {
        <section class="card form-card">
            <h2>{if is_edit { "编辑渠道" } else { "新建渠道" }}</h2>
            <form id="channel-form" class="form-grid" data-mode=if is_edit { "edit" } else { "create" }
                on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <label>"名称"
                    <input name="name" required maxlength="50" placeholder="例如 研发群机器人"
                        prop:value=move || name.get() on:input=text_input(name) />
                </label>
                <label>"平台"
                    <select name="kind" prop:value=move || kind.get() on:change=text_input(kind)>
                        <option value="" selected=kind.get_untracked().is_empty()>"按网址自动识别"</option>
                        {KINDS.iter().copied().map(|channel_kind| {
                            let value = channel_kind.as_str();
                            view! {
                                <option value=value selected=kind.get_untracked() == value>{channel_kind.label()}</option>
                            }
                        }).collect_view()}
                    </select>
                </label>
                <label class="wide">"网址（群机器人 Webhook 或个人推送地址）"
                    <input name="url" type="text" inputmode="url" autocomplete="off" required=!is_edit maxlength="2048"
                        placeholder=masked_url.clone().map_or_else(
                            || "https://oapi.dingtalk.com/robot/send?access_token=…".to_owned(),
                            |masked| format!("{masked}（留空保持不变）"),
                        )
                        prop:value=move || url.get() on:input=text_input(url) />
                    <small class="muted" data-testid="url-forms">{move || {
                        let forms: Vec<&str> = match ChannelKind::parse(&kind.get()) {
                            Some(chosen) => chosen.url_forms().to_vec(),
                            None => KINDS.iter().flat_map(|k| k.url_forms().iter().copied()).collect(),
                        };
                        format!("可用格式：{}", forms.join("　"))
                    }}</small>
                </label>
                <label>"加签密钥（可选）"
                    <input name="secret" type="password" autocomplete="new-password" maxlength="200"
                        placeholder=if had_secret { "已设置，留空保持不变" } else { "SEC…" }
                        disabled=move || clear_secret.get()
                        prop:value=move || secret.get() on:input=text_input(secret) />
                </label>
                {had_secret.then(|| view! {
                    <label class="check">
                        <input type="checkbox" name="clear_secret" prop:checked=move || clear_secret.get() on:change=check_input(clear_secret) />
                        "清除密钥"
                    </label>
                })}
                <label>"消息格式"
                    <select name="format" prop:value=move || format.get() on:change=text_input(format)>
                        <option value="text" selected=format.get_untracked() == "text">"纯文本"</option>
                        <option value="markdown" selected=format.get_untracked() == "markdown">"Markdown"</option>
                    </select>
                </label>
                {(admin && own.is_none()).then(|| view! {
                    <label>"归属"
                        <select name="user_id" prop:value=move || owner.get() on:change=text_input(owner)>
                            <option value="" selected=owner.get_untracked().is_empty()>"全员 / 团队"</option>
                            {members.into_iter().map(|member| {
                                let value = member.id.to_string();
                                view! {
                                    <option value=value.clone() selected=owner.get_untracked() == value>
                                        {format!("{}（{}）", member.display_name, member.username)}
                                    </option>
                                }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <fieldset class="radio-row">
                    <legend>"用途"</legend>
                    <label class="check">
                        <input type="checkbox" name="purpose_clock_in" prop:checked=move || clock_in.get() on:change=check_input(clock_in) />
                        "上班提醒"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="purpose_clock_out" prop:checked=move || clock_out.get() on:change=check_input(clock_out) />
                        "下班提醒"
                    </label>
                </fieldset>
                <label class="check">
                    <input type="checkbox" name="active" prop:checked=move || active.get() on:change=check_input(active) />
                    "启用"
                </label>
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || save.pending().get()>"保存"</button>
                    <button type="button" class="button ghost" on:click=move |_| on_cancel()>"取消"</button>
                </div>
            </form>
            <ActionResult value=move || save.value().get() success="" />
        </section>
    }
}
