//! The settings page's 企业应用 section: connect the company's DingTalk, Feishu or WeCom
//! app once, then bind everyone by mobile. The kinds, their fields and their URL scheme come
//! from the channel registry; a connected app is a team-wide channel.

use leptos::prelude::*;

use crate::api::{bind_channel_people, create_channel, list_channels};
use crate::domain::channel::{ChannelKind, KINDS};
use crate::ui::components::form::describe_error;
use crate::wire::{BindReport, NewChannel};

/// The kinds that deliver privately through a company app.
fn app_kinds() -> Vec<ChannelKind> {
    KINDS
        .iter()
        .copied()
        .filter(|kind| kind.binding().is_some())
        .collect()
}

/// The credential names of a kind's form (`AppKey:AppSecret@AgentId` → three).
fn field_names(kind: ChannelKind) -> Vec<&'static str> {
    kind.form().split([':', '@']).collect()
}

/// Characters that would change the URL's structure are percent-encoded.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.trim().chars() {
        match c {
            '%' | ':' | '@' | '/' | '?' | '#' | ' ' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// `scheme://first:second[@third]`, as the kind's form has it.
fn app_url(kind: ChannelKind, values: &[String]) -> String {
    let scheme = kind.schemes().first().copied().unwrap_or_default();
    let mut url = format!(
        "{scheme}://{}:{}",
        encode(values.first().map_or("", String::as_str)),
        encode(values.get(1).map_or("", String::as_str))
    );
    if let Some(third) = values.get(2) {
        url.push('@');
        url.push_str(&encode(third));
    }
    url
}

#[component]
pub fn CompanyApps() -> impl IntoView {
    let kinds = app_kinds();
    let version = RwSignal::new(0u32);
    let channels = Resource::new(move || version.get(), |_| list_channels());
    let chosen = RwSignal::new(
        kinds
            .first()
            .map(|kind| kind.as_str().to_owned())
            .unwrap_or_default(),
    );
    let values: [RwSignal<String>; 3] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let connect = Action::new(|input: &NewChannel| {
        let input = input.clone();
        async move { create_channel(input).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = connect.value().get() {
            for value in values {
                value.set(String::new());
            }
            version.update(|v| *v += 1);
        }
    });
    let bind = Action::new(|id: &i32| {
        let id = *id;
        async move { bind_channel_people(id, None).await }
    });
    let kind_of = move || ChannelKind::parse(&chosen.get());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(kind) = ChannelKind::parse(&chosen.get_untracked()) else {
            return;
        };
        let count = field_names(kind).len();
        let typed: Vec<String> = values[..count]
            .iter()
            .map(|value| value.get_untracked())
            .collect();
        connect.dispatch(NewChannel {
            name: kind.label().to_owned(),
            kind: Some(kind.as_str().to_owned()),
            url: app_url(kind, &typed),
            user_id: None,
            ..NewChannel::default()
        });
    };

    view! {
        <section class="card" id="company-apps" data-testid="company-apps">
            <h2>"企业应用（私信提醒）"</h2>
            <p class="muted">
                "连接公司自己的钉钉、飞书或企业微信自建应用后，提醒以工作通知 / 应用消息私信发给每个人（按个人资料里的平台 ID）。没有平台 ID 的人改用下一个渠道。应用的创建和权限见 README。"
            </p>
            <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match channels.await {
                        Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                        Ok(list) => {
                            let apps: Vec<_> = list
                                .into_iter()
                                .filter(|channel| ChannelKind::parse(&channel.kind).is_some_and(|kind| kind.binding().is_some()))
                                .collect();
                            if apps.is_empty() {
                                return view! { <p class="muted" data-testid="no-company-app">"还没有连接企业应用。"</p> }.into_any();
                            }
                            view! {
                                <ul class="plain-list" data-testid="company-app-list">
                                    {apps.into_iter().map(|channel| {
                                        let id = channel.id;
                                        let label = ChannelKind::parse(&channel.kind).map_or("", ChannelKind::label);
                                        view! {
                                            <li data-testid="company-app" data-id=id.to_string()>
                                                <strong>{channel.name.clone()}</strong>
                                                " "<span class="muted">{label}</span>
                                                " "<code>{channel.url.clone()}</code>
                                                " "
                                                <button type="button" class="button ghost" data-testid="bind-by-mobile"
                                                    disabled=move || bind.pending().get()
                                                    on:click=move |_| { bind.dispatch(id); }>
                                                    "按手机号绑定全部成员"
                                                </button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            {move || {
                if bind.pending().get() {
                    return Some(view! { <p class="progress"><span class="spinner"></span>"正在按手机号查找…"</p> }.into_any());
                }
                bind.value().get().map(|outcome| match outcome {
                    Ok(report) => view! { <BindReportView report /> }.into_any(),
                    Err(error) => view! { <p class="alert error" role="alert" data-testid="bind-error">{describe_error(&error)}</p> }.into_any(),
                })
            }}
            <form class="stack" data-testid="connect-app" on:submit=submit>
                <h3>"连接企业应用"</h3>
                <label for="app-kind">"平台"</label>
                <select id="app-kind" name="app_kind" on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {kinds.iter().map(|kind| view! {
                        <option value=kind.as_str() selected=kind.as_str() == chosen.get_untracked()>{kind.label()}</option>
                    }).collect_view()}
                </select>
                {move || {
                    let names = kind_of().map(field_names).unwrap_or_default();
                    names.into_iter().enumerate().map(|(index, name)| {
                        let value = values[index];
                        let id = format!("app-field-{index}");
                        let secret = index == 1;
                        view! {
                            <label for=id.clone()>{name}</label>
                            <input id=id name=format!("app_field_{index}") type=if secret { "password" } else { "text" }
                                autocomplete="off" required=true
                                prop:value=move || value.get()
                                on:input=move |ev| value.set(event_target_value(&ev)) />
                        }
                    }).collect_view()
                }}
                <div class="actions">
                    <button type="submit" class="button" data-testid="connect-app-submit" disabled=move || connect.pending().get()>
                        {move || if connect.pending().get() { "连接中…" } else { "连接" }}
                    </button>
                </div>
                {move || connect.value().get().map(|outcome| match outcome {
                    Ok(channel) => view! { <p class="alert ok" role="status" data-testid="connect-app-ok">{format!("已连接“{}”", channel.name)}</p> }.into_any(),
                    Err(error) => view! { <p class="alert error" role="alert" data-testid="connect-app-error">{describe_error(&error)}</p> }.into_any(),
                })}
            </form>
        </section>
    }
}

#[component]
fn BindReportView(report: BindReport) -> impl IntoView {
    let bound = report.bound.len();
    let missing = report.not_found.len();
    view! {
        <div data-testid="bind-report">
            <p class="alert ok" role="status">{format!("已绑定 {bound} 人，未找到 {missing} 人")}</p>
            {(missing > 0).then(|| view! {
                <table class="table" data-testid="bind-not-found">
                    <thead><tr><th>"成员"</th><th>"原因"</th></tr></thead>
                    <tbody>
                        {report.not_found.into_iter().map(|person| view! {
                            <tr><td>{person.name}</td><td>{person.reason}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_company_app_s_url_is_built_from_its_form() {
        let kinds = app_kinds();
        assert!(kinds.len() >= 3, "{kinds:?}");
        for kind in kinds {
            let names = field_names(kind);
            let values: Vec<String> = match names.len() {
                3 => vec![
                    "ww0123456789abcdef".into(),
                    "Secret_of_the_app_0123".into(),
                    "1000002".into(),
                ],
                _ => vec![
                    "cli_a1b2c3d4e5f6a7b8".into(),
                    "Secret_of_the_app_0123".into(),
                ],
            };
            let url = app_url(kind, &values);
            assert!(
                url.starts_with(&format!("{}://", kind.schemes()[0])),
                "{url}"
            );
            assert_eq!(url.matches(':').count(), 2, "{url}");
        }
        assert_eq!(encode(" a:b@c/d "), "a%3Ab%40c%2Fd");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_urls_built_here_parse_as_their_kind() {
        for kind in app_kinds() {
            let values: Vec<String> = match field_names(kind).len() {
                3 => vec![
                    "ww0123456789abcdef".into(),
                    "Secret_of_the_app_0123".into(),
                    "1000002".into(),
                ],
                _ => vec![
                    "cli_a1b2c3d4e5f6a7b8".into(),
                    "Secret_of_the_app_0123".into(),
                ],
            };
            let url = app_url(kind, &values);
            let parsed =
                crate::domain::channel::parse(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.kind(), kind);
        }
    }
}
