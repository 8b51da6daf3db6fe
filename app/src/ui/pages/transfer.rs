//! 导入 / 导出 / 订阅 (`/schedule/import`): upload a CSV, XLSX or the original's
//! data.json, check the per-row preview, confirm; download a CSV of a range; subscribe to
//! one's schedule from a phone calendar.

use chrono::{Datelike, Days, Months, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{calendar_feed_status, reset_calendar_feed, revoke_calendar_feed};
use crate::ui::browser::{post_bytes, read_chosen_file};
use crate::ui::components::form::describe_error;
use crate::ui::session::{AdminOnly, SessionContext};
use crate::wire::{ImportReport, TeamMember};

const FILE_INPUT_ID: &str = "schedule-file";
/// Preview rows drawn at once; a 50,000-row file shows its errors and the first rows.
const SHOWN_ROWS: usize = 500;

fn month_bounds(today: NaiveDate) -> (String, String) {
    let first = today.with_day(1).unwrap_or(today);
    let last = (first + Months::new(1)) - Days::new(1);
    (first.to_string(), last.to_string())
}

fn format_for(file_name: &str) -> &'static str {
    let lower = file_name.to_lowercase();
    if lower.ends_with(".xlsx") {
        "xlsx"
    } else if lower.ends_with(".json") {
        "datajson"
    } else {
        "csv"
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[component]
pub fn TransferPage() -> impl IntoView {
    let session = SessionContext::current();
    let members = Resource::new(|| (), move |_| session.load_team());
    view! {
        <Title text="导入 / 导出" />
        <h1 class="page-title">"导入 / 导出 / 订阅"</h1>
        <ImportSection members />
        <ExportSection members />
        <FeedSection />
    }
}

#[component]
fn MemberSelect(
    members: Resource<Vec<TeamMember>>,
    value: RwSignal<String>,
    empty: &'static str,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = members.await;
                view! {
                    <select aria-label="用户" on:change=move |ev| value.set(event_target_value(&ev))>
                        <option value="">{empty}</option>
                        {list.into_iter().map(|member| view! {
                            <option value=member.id.to_string()>{format!("{}（{}）", member.display_name, member.username)}</option>
                        }).collect_view()}
                    </select>
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportSection(members: Resource<Vec<TeamMember>>) -> impl IntoView {
    let format = RwSignal::new("auto".to_owned());
    let user = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ImportReport>);
    let only_problems = RwSignal::new(false);
    let upload = Action::new_local(move |dry_run: &bool| {
        let dry_run = *dry_run;
        let (chosen_format, user) = (format.get_untracked(), user.get_untracked());
        async move {
            let (name, bytes) =
                read_chosen_file(FILE_INPUT_ID, crate::domain::MAX_UPLOAD_FILE_BYTES).await?;
            let format = if chosen_format == "auto" {
                format_for(&name).to_owned()
            } else {
                chosen_format
            };
            let mut url = format!(
                "/api/v1/schedules/import?format={format}&dry_run={dry_run}&filename={}",
                encode(&name)
            );
            if format == "datajson" && !user.is_empty() {
                url.push_str(&format!("&user_id={user}"));
            }
            post_bytes::<ImportReport>(&url, "application/octet-stream", bytes).await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(result)) = upload.value().get() {
            report.set(Some(result));
        }
    });
    view! {
        <section class="card">
            <h2>"导入排班"</h2>
            <p class="muted">
                "CSV 或 Excel（.xlsx）：列为 日期、用户名、班次（名称或简称）、备注（可选），表头中英文均可；CSV 支持 UTF-8 与 GBK 编码。"
                "也可导入旧版系统的 data.json（单个用户）。先预览，确认无误后一次性写入，有任何错误行则不写入。"
            </p>
            <form class="row-form" on:submit=move |ev| { ev.prevent_default(); report.set(None); upload.dispatch(true); }>
                <input id=FILE_INPUT_ID type="file" accept=".csv,.xlsx,.json,text/csv" required
                    on:change=move |_| report.set(None) />
                <select aria-label="格式" on:change=move |ev| format.set(event_target_value(&ev))>
                    <option value="auto">"按扩展名识别"</option>
                    <option value="csv">"CSV"</option>
                    <option value="xlsx">"Excel (.xlsx)"</option>
                    <option value="datajson">"旧版 data.json"</option>
                </select>
                <AdminOnly>
                    <MemberSelect members value=user empty="data.json 归属：我自己" />
                </AdminOnly>
                <button type="submit" class="button" data-testid="import-preview" disabled=move || upload.pending().get()>"上传并预览"</button>
            </form>
            <Show when=move || upload.pending().get()>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"正在上传并校验……"</p>
            </Show>
            {move || match upload.value().get() {
                Some(Err(error)) => view! { <p class="alert error" role="alert" data-testid="import-error">{describe_error(&error)}</p> }.into_any(),
                _ => ().into_any(),
            }}
            {move || report.get().map(|report| {
                let summary = report.summary;
                let committed = report.committed;
                let writable = summary.errors == 0 && summary.new + summary.change > 0;
                let mut rows = report.rows.clone();
                if only_problems.get() {
                    rows.retain(|row| row.status == "error" || row.status == "change");
                }
                let hidden = rows.len().saturating_sub(SHOWN_ROWS);
                rows.truncate(SHOWN_ROWS);
                view! {
                    <div data-testid="import-report">
                        {if committed {
                            view! { <p class="alert ok" role="status">{format!("已导入：新增 {}，修改 {}，未变 {}。", summary.new, summary.change, summary.unchanged)}</p> }.into_any()
                        } else if summary.errors > 0 {
                            view! { <p class="alert error" role="alert">{format!("共 {} 行，其中 {} 行有错误：请修正文件后重新上传（不会写入任何数据）。", summary.rows, summary.errors)}</p> }.into_any()
                        } else {
                            view! { <p class="alert ok">{format!("共 {} 行：新增 {}，修改 {}，未变 {}。", summary.rows, summary.new, summary.change, summary.unchanged)}</p> }.into_any()
                        }}
                        <label class="check"><input type="checkbox" prop:checked=move || only_problems.get() on:change=move |ev| only_problems.set(event_target_checked(&ev)) />"只看错误和修改"</label>
                        <div class="table-scroll">
                            <table class="table">
                                <thead><tr><th>"行"</th><th>"日期"</th><th>"用户"</th><th>"班次"</th><th>"备注"</th><th>"结果"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|row| {
                                        let (badge, text) = match row.status.as_str() {
                                            "new" => ("badge ok", "新增".to_owned()),
                                            "change" => ("badge warn", format!("修改（原：{}）", row.previous.clone().unwrap_or_default())),
                                            "unchanged" => ("badge off", "不变".to_owned()),
                                            _ => ("badge error", row.message.clone().unwrap_or_default()),
                                        };
                                        view! {
                                            <tr class:row-error=row.status == "error" data-line=row.line>
                                                <td>{row.line}</td>
                                                <td>{row.date.map(|date| date.to_string()).unwrap_or_default()}</td>
                                                <td>{row.username.clone()}</td>
                                                <td>{row.shift.clone()}</td>
                                                <td class="muted">{row.note.clone().unwrap_or_default()}</td>
                                                <td><span class=badge>{text}</span></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {(hidden > 0).then(|| view! { <p class="muted">{format!("另有 {hidden} 行未显示。")}</p> })}
                        {(!committed && writable).then(|| view! {
                            <div class="form-actions">
                                <button type="button" class="button" data-testid="import-commit" disabled=move || upload.pending().get()
                                    on:click=move |_| { upload.dispatch(false); }>{format!("确认导入 {} 条", summary.new + summary.change)}</button>
                            </div>
                        })}
                    </div>
                }
            })}
        </section>
    }
}

#[component]
fn ExportSection(members: Resource<Vec<TeamMember>>) -> impl IntoView {
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    // Default to this month, as the server's clock and time zone see it.
    let today = Resource::new(|| (), |_| crate::api::get_overview());
    Effect::new(move |_| {
        if let Some(Ok(overview)) = today.get()
            && let Some(date) = overview
                .local_time
                .get(..10)
                .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            && from.get_untracked().is_empty()
        {
            let (first, last) = month_bounds(date);
            from.set(first);
            to.set(last);
        }
    });
    let user = RwSignal::new(String::new());
    let href = move || {
        let mut url = format!(
            "/api/v1/schedules/export?from={}&to={}",
            from.get(),
            to.get()
        );
        if !user.get().is_empty() {
            url.push_str(&format!("&user_id={}", user.get()));
        }
        url
    };
    view! {
        <section class="card">
            <h2>"导出排班（CSV）"</h2>
            <p class="muted">"导出的列与导入相同，可在 Excel 中修改后再导入。"</p>
            <div class="row-form">
                <label>"从"<input type="date" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) /></label>
                <label>"到"<input type="date" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) /></label>
                <AdminOnly>
                    <MemberSelect members value=user empty="全部成员" />
                </AdminOnly>
                <a class="button" href=href download data-testid="export-link">"下载 CSV"</a>
            </div>
        </section>
    }
}

#[component]
fn FeedSection() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let status = Resource::new(move || version.get(), |_| calendar_feed_status());
    let created = RwSignal::new(None::<String>);
    let reset = Action::new(|_: &()| reset_calendar_feed());
    let revoke = Action::new(|_: &()| revoke_calendar_feed());
    Effect::new(move |_| {
        if let Some(Ok(path)) = reset.value().get() {
            let origin = window().location().origin().unwrap_or_default();
            created.set(Some(format!("{origin}{path}")));
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            created.set(None);
            version.update(|v| *v += 1);
        }
    });
    view! {
        <section class="card">
            <h2>"日历订阅（iCalendar）"</h2>
            <p class="muted">"在手机日历（iPhone“添加订阅日历”、Google 日历“通过网址添加”）中订阅自己的排班。地址含密钥，请勿外传；重新生成后旧地址立即失效。"</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let active = status.await.unwrap_or(false);
                    view! {
                        <p>{if active { "状态：已开启" } else { "状态：未开启" }}</p>
                    }
                })}
            </Suspense>
            {move || created.get().map(|url| view! {
                <p class="alert ok">"订阅地址（只显示这一次）："<br /><code data-testid="feed-url">{url}</code></p>
            })}
            <div class="row-form">
                <button type="button" class="button" data-testid="feed-reset" on:click=move |_| { reset.dispatch(()); }>"生成新的订阅地址"</button>
                <button type="button" class="button ghost danger" on:click=move |_| { revoke.dispatch(()); }>"停用订阅"</button>
            </div>
        </section>
    }
}
