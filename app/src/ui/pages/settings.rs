//! 系统设置 (`/settings`, admins): reminder settings stored in the database, grouped as the
//! server describes them. Values pinned by environment variables are shown, not edited;
//! secrets are write-only.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::AppError;
use crate::api::{load_settings, save_settings, test_default_robot};
use crate::ui::components::channel_order::ChannelOrderEditor;
use crate::ui::components::company_apps::CompanyApps;
use crate::ui::components::form::describe_error;
use crate::ui::components::reminder::TestResult;
use crate::wire::{SettingField, SettingInput, SettingSource, SettingsPatch, SettingsView};

/// One field being edited: what the server sent, what is typed, and "清除" for secrets.
#[derive(Clone)]
struct FieldState {
    field: SettingField,
    value: RwSignal<String>,
    clear: RwSignal<bool>,
}

impl FieldState {
    fn new(field: SettingField) -> Self {
        let initial = if field.input == SettingInput::Secret {
            String::new()
        } else {
            field.value.clone()
        };
        Self {
            field,
            value: RwSignal::new(initial),
            clear: RwSignal::new(false),
        }
    }

    fn pinned(&self) -> bool {
        self.field.source == SettingSource::Environment
    }

    /// The new value when it differs from what is stored.
    fn change(&self) -> Option<String> {
        if self.pinned() {
            return None;
        }
        let value = self.value.get_untracked();
        if self.field.input == SettingInput::Secret {
            if self.clear.get_untracked() {
                return self.field.is_set.then(String::new);
            }
            return (!value.trim().is_empty()).then(|| value.trim().to_owned());
        }
        (value != self.field.value).then_some(value)
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let settings = Resource::new(move || version.get(), |_| load_settings());
    let notice = RwSignal::new(None::<String>);
    let save = Action::new(|patch: &SettingsPatch| {
        let patch = patch.clone();
        async move {
            let count = patch.0.len();
            save_settings(patch).await.map(|view| (count, view))
        }
    });
    Effect::new(move |_| {
        if let Some(Ok((count, _))) = save.value().get() {
            notice.set(Some(format!("已保存 {count} 项设置")));
            version.update(|v| *v += 1);
        }
    });
    let robot_test = Action::new(|kind: &&'static str| {
        let kind = *kind;
        async move { test_default_robot(kind.to_owned()).await }
    });
    let robot_button = move |kind: &'static str, label: &'static str| {
        view! {
            <button
                type="button"
                class="button ghost"
                data-testid=format!("test-robot-{}", kind.replace('_', "-"))
                disabled=move || robot_test.pending().get()
                on:click=move |_| { robot_test.dispatch(kind); }
            >
                {label}
            </button>
        }
    };

    view! {
        <Title text="系统设置" />
        <h1 class="page-title">"系统设置"</h1>
        <Transition fallback=|| view! { <p class="muted">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                    Ok(view) => view! {
                        <SettingsForm view save notice />
                        <section class="card" id="robot-test">
                            <h2>"测试默认机器人"</h2>
                            <p class="muted">"用已保存的设置向默认机器人发送一条测试消息（先保存再测试）。"</p>
                            <div class="actions">
                                {robot_button("clock_in", "测试上班机器人")}
                                {robot_button("clock_out", "测试下班机器人")}
                            </div>
                            {move || {
                                if robot_test.pending().get() {
                                    return Some(view! { <p class="progress" id="robot-test-result"><span class="spinner"></span>"正在发送测试消息…"</p> }.into_any());
                                }
                                robot_test.value().get().map(|outcome| match outcome {
                                    Ok(result) => view! {
                                        <div id="robot-test-result"><TestResult result testid="robot-test-result-body" /></div>
                                    }.into_any(),
                                    Err(error) => view! {
                                        <p class="alert error" role="alert" id="robot-test-result">{error.message()}</p>
                                    }.into_any(),
                                })
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
        // Outside the settings' Suspend: these load their own data.
        <CompanyApps />
        <section class="card" id="team-channel-order">
            <h2>"团队默认渠道顺序"</h2>
            <p class="muted">"没有设置自己顺序的人按这个顺序尝试团队渠道；都不设置时：自己的渠道 → 团队渠道 → 默认机器人。"</p>
            <ChannelOrderEditor team=true />
        </section>
    }
}

/// An error naming the setting by its label rather than its key.
fn describe_settings_error(error: &AppError, labels: &[(String, String)]) -> String {
    let label = error.field().and_then(|key| {
        labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, label)| label)
    });
    match label {
        Some(label) => format!("{label}：{}", error.message()),
        None => describe_error(error),
    }
}

#[component]
fn SettingsForm(
    view: SettingsView,
    save: Action<SettingsPatch, Result<(usize, SettingsView), AppError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let links_hint = match view.public_url.clone() {
        Some(url) => view! {
            <p class="alert ok" data-testid="links-hint">
                {format!("提醒消息带“我已打卡”“今天不用提醒”一键链接，指向 {url}（PUBLIC_URL）。")}
            </p>
        }
        .into_any(),
        None => view! {
            <p class="alert warning" data-testid="links-hint">
                "未设置 PUBLIC_URL：提醒消息里没有“我已打卡”“今天不用提醒”一键链接。在 .env 中设置 PUBLIC_URL=https://你的域名（大家打开本系统的地址）并重启即可开启。"
            </p>
        }
        .into_any(),
    };
    let states: Vec<FieldState> = view.fields.into_iter().map(FieldState::new).collect();
    // Groups in the order the server lists them.
    let mut groups: Vec<(String, Vec<FieldState>)> = Vec::new();
    for state in states.iter().cloned() {
        match groups
            .iter_mut()
            .find(|(group, _)| *group == state.field.group)
        {
            Some((_, fields)) => fields.push(state),
            None => groups.push((state.field.group.clone(), vec![state])),
        }
    }
    let labels: Vec<(String, String)> = states
        .iter()
        .map(|state| (state.field.key.clone(), state.field.label.clone()))
        .collect();
    let status = move || {
        match save.value().get() {
        Some(Err(error)) => Some(
            view! {
                <p class="alert error" role="alert" id="settings-error" data-field=error.field().map(str::to_owned)>
                    {describe_settings_error(&error, &labels)}
                </p>
            }
            .into_any(),
        ),
        _ => notice.get().map(|text| {
            view! { <p class="alert ok" role="status" id="settings-saved">{text}</p> }.into_any()
        }),
    }
    };
    let unchanged = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch: std::collections::BTreeMap<String, String> = states
            .iter()
            .filter_map(|state| Some((state.field.key.clone(), state.change()?)))
            .collect();
        if patch.is_empty() {
            unchanged.set(true);
            return;
        }
        unchanged.set(false);
        notice.set(None);
        save.dispatch(SettingsPatch(patch));
    };
    let error_for = move |key: String| {
        move || match save.value().get() {
            Some(Err(error)) if error.field() == Some(key.as_str()) => Some(view! {
                <small class="field-error" role="alert" data-error-for=key.clone()>{error.message()}</small>
            }),
            _ => None,
        }
    };
    view! {
        {status}
        {links_hint}
        <form id="settings-form" class="settings-form" data-testid="settings-form" on:submit=submit>
            {groups.into_iter().map(|(group, fields)| {
                let title = group.clone();
                view! {
                <section class="card settings-group" data-group=group>
                    <h2>{title}</h2>
                    {fields.into_iter().map(|state| {
                        let key = state.field.key.clone();
                        let error_key = key.clone();
                        view! {
                            <div class="setting" data-key=key.clone() data-source=source_code(state.field.source)>
                                <div class="setting-head">
                                    <label for=format!("setting-{key}")>{state.field.label.clone()}</label>
                                    {source_badge(state.field.source)}
                                </div>
                                <SettingInputView state=state.clone() />
                                {match (&state.field.source, &state.field.env_var) {
                                    (SettingSource::Environment, Some(env)) => Some(view! {
                                        <small class="muted pinned">{format!("由环境变量 {env} 设置")}</small>
                                    }.into_any()),
                                    (_, Some(env)) => Some(view! {
                                        <small class="muted">{format!("也可用环境变量 {env} 固定")}</small>
                                    }.into_any()),
                                    _ => None,
                                }}
                                {(!state.field.help.is_empty()).then(|| view! {
                                    <small class="muted help">{state.field.help.clone()}</small>
                                })}
                                {error_for(error_key)}
                            </div>
                        }
                    }).collect_view()}
                </section>
                }
            }).collect_view()}
            <div class="form-actions sticky-actions">
                <button type="submit" class="button" data-testid="save-settings" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "保存中…" } else { "保存" }}
                </button>
                {move || unchanged.get().then(|| view! { <span class="muted" role="status">"没有修改"</span> })}
            </div>
        </form>
    }
}

fn source_code(source: SettingSource) -> &'static str {
    match source {
        SettingSource::Environment => "environment",
        SettingSource::Database => "database",
        SettingSource::Default => "default",
    }
}

fn source_badge(source: SettingSource) -> impl IntoView {
    let (class, label) = match source {
        SettingSource::Environment => ("badge warn", "环境变量"),
        SettingSource::Database => ("badge ok", "已保存"),
        SettingSource::Default => ("badge off", "默认"),
    };
    view! { <span class=class data-testid="setting-source">{label}</span> }
}

#[component]
fn SettingInputView(state: FieldState) -> impl IntoView {
    let FieldState {
        field,
        value,
        clear,
    } = state;
    let id = format!("setting-{}", field.key);
    let name = field.key.clone();
    let disabled = field.source == SettingSource::Environment;
    let initial = value.get_untracked();
    let on_input = move |ev| value.set(event_target_value(&ev));
    match field.input {
        SettingInput::Toggle => view! {
            <label class="check toggle">
                <input type="checkbox" id=id name=name disabled=disabled
                    checked=initial == "true"
                    on:change=move |ev| value.set(event_target_checked(&ev).to_string()) />
                "开启"
            </label>
        }
        .into_any(),
        SettingInput::Number { min, max } => view! {
            <input type="number" id=id name=name disabled=disabled
                min=min.to_string() max=max.to_string() step="1"
                value=initial on:input=on_input />
        }
        .into_any(),
        SettingInput::Text => view! {
            <input type="text" id=id name=name disabled=disabled value=initial on:input=on_input />
        }
        .into_any(),
        SettingInput::Url => view! {
            <input type="url" id=id name=name disabled=disabled value=initial on:input=on_input />
        }
        .into_any(),
        SettingInput::Secret => {
            let placeholder = if field.is_set {
                format!("{}（留空保持不变）", field.value)
            } else {
                "未设置".to_owned()
            };
            view! {
                <div class="secret-row">
                    <input type="password" id=id name=name autocomplete="new-password"
                        placeholder=placeholder
                        disabled=move || disabled || clear.get()
                        on:input=on_input />
                    {(field.is_set && !disabled).then(|| view! {
                        <label class="check">
                            <input type="checkbox" name=format!("{}__clear", field.key)
                                on:change=move |ev| clear.set(event_target_checked(&ev)) />
                            "清除"
                        </label>
                    })}
                </div>
            }
            .into_any()
        }
        SettingInput::Choice { options } => view! {
            <select id=id name=name disabled=disabled on:change=on_input>
                {options.into_iter().map(|option| {
                    let selected = option.value == initial;
                    view! { <option value=option.value selected=selected>{option.label}</option> }
                }).collect_view()}
            </select>
        }
        .into_any(),
        SettingInput::Template => view! {
            <textarea id=id name=name disabled=disabled rows="4" on:input=on_input>{initial}</textarea>
        }
        .into_any(),
    }
}
