//! 首页 (`/`): today at a glance — my shift, the team (admins), the next reminders, today's
//! deliveries and the reminder worker — and the system overview with its live clock.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{get_overview, load_dashboard};
use crate::domain::period::weekday_name;
use crate::ui::components::calendar::ShiftChip;
use crate::ui::components::form::describe_error;
use crate::ui::components::reminder::{
    fires_on, hhmm, kind_text, lateness_text, local_datetime, month_day, status_class,
};
use crate::wire::SystemOverview;
use crate::wire::{Dashboard, DeliveryView, ShiftToday, UpcomingReminder, WorkerStatus};

#[component]
pub fn HomePage() -> impl IntoView {
    let dashboard = Resource::new(|| (), |_| load_dashboard());
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="首页" />
        <h1 class="page-title">"首页"</h1>
        <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(dashboard) => view! { <DashboardView dashboard /> }.into_any(),
                    Err(error) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewCard overview /> }.into_any(),
                    Err(error) => view! { <p class="alert error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let names: HashMap<i32, String> = dashboard.user_names.iter().cloned().collect();
    let shift_names: HashMap<i32, String> = dashboard.shift_names.iter().cloned().collect();
    let today = dashboard.today;
    let team = dashboard.admin.then(|| {
        let team_today = dashboard.team_today.clone();
        view! {
            <section class="card" id="team-today">
                <h2>"今日团队"</h2>
                {if team_today.is_empty() {
                    view! { <p class="muted">"今天没有人排班"</p> }.into_any()
                } else {
                    view! {
                        <ul class="team-today">
                            {team_today.into_iter().map(|ShiftToday { shift, people }| {
                                let name = shift.name.clone();
                                view! {
                                    <li data-testid="team-today-row" data-shift=name>
                                        <span class="team-today-head">
                                            <ShiftChip shift />
                                            <span class="muted">{format!("{} 人", people.len())}</span>
                                        </span>
                                        <span class="people">{people.join("、")}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        }
    });
    let waiting = dashboard.requests_waiting;
    view! {
        <div id="dashboard" class="dashboard" data-testid="dashboard">
            {(waiting > 0).then(|| view! {
                <p class="alert warn" data-testid="requests-waiting">
                    {if dashboard.admin { format!("有 {waiting} 个申请等待审批。") } else { format!("有 {waiting} 个换班或代班等你确认。") }}
                    " " <a href="/requests">"去处理"</a>
                </p>
            })}
            <div class="dashboard-grid">
                <section class="card" id="my-shift">
                    <h2>{format!("今天 {} 周{}", today.format("%m月%d日"), weekday_name(today))}</h2>
                    {match dashboard.my_shift.clone() {
                        Some(shift) => {
                            let name = shift.name.clone();
                            view! {
                            <p class="my-shift" data-testid="my-shift" data-shift=name>
                                "我的班次 " <ShiftChip shift />
                            </p>
                        }.into_any()
                        }
                        None => view! {
                            <p class="muted" data-testid="my-shift" data-shift="">"今天没有排班"</p>
                        }.into_any(),
                    }}
                    <p class="muted">
                        <a href="/schedule">"查看我的排班"</a>
                        " · "
                        <a href="/reminders">"提醒预览"</a>
                    </p>
                </section>
                <WorkerCard worker=dashboard.worker.clone() timezone=dashboard.timezone.clone() />
            </div>
            {team}
            <NextReminders reminders=dashboard.next_reminders.clone() names=names.clone() shifts=shift_names.clone() />
            <TodayDeliveries deliveries=dashboard.deliveries_today.clone() />
        </div>
    }
}

#[component]
fn WorkerCard(worker: WorkerStatus, timezone: String) -> impl IntoView {
    let (label, class) = match worker.state.as_str() {
        "running" => ("运行中", "badge ok"),
        "starting" => ("启动中", "badge pending"),
        "stalled" => ("已停滞", "badge error"),
        _ => ("未知", "badge off"),
    };
    view! {
        <section class="card" id="worker-status" data-state=worker.state.clone()>
            <h2>"提醒服务"</h2>
            {(!worker.sending_enabled).then(|| view! {
                <p class="alert warning" role="alert" data-testid="sending-disabled">
                    "提醒已关闭：照常计算，但不会发送。"
                    <a href="/settings">"系统设置"</a>
                </p>
            })}
            <dl class="facts">
                <dt>"状态"</dt>
                <dd><span class=class data-testid="worker-state">{label}</span></dd>
                <dt>"上次运行"</dt>
                <dd data-testid="worker-last-tick">
                    {match worker.last_tick_at.as_deref() {
                        Some(at) => format!(
                            "{}{}",
                            local_datetime(at),
                            worker.lag_secs.map(|lag| format!("（{lag} 秒前）")).unwrap_or_default()
                        ),
                        None => "尚未运行".to_owned(),
                    }}
                </dd>
                <dt>"待发送"</dt>
                <dd data-testid="worker-queued">{format!("{} 条", worker.queued)}</dd>
                <dt>"时区"</dt>
                <dd>{timezone}</dd>
            </dl>
        </section>
    }
}

#[component]
fn NextReminders(
    reminders: Vec<UpcomingReminder>,
    names: HashMap<i32, String>,
    shifts: HashMap<i32, String>,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="page-head">
                <h2>"接下来的提醒"</h2>
                <a href="/reminders">"全部"</a>
            </div>
            {if reminders.is_empty() {
                view! { <p class="muted" data-testid="no-next-reminders">"今明两天没有待发的提醒"</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table stack" id="next-reminders">
                            <thead><tr><th>"时间"</th><th>"人员"</th><th>"类型"</th><th>"渠道"</th></tr></thead>
                            <tbody>
                                {reminders.into_iter().map(|item| {
                                    // The shift's own date, when the reminder fires on another day.
                                    let shift_day = (!fires_on(&item.at, item.date)).then(|| {
                                        let shift = shifts.get(&item.shift_id).cloned().unwrap_or_default();
                                        format!(" · {} {shift}", item.date.format("%m-%d"))
                                    });
                                    view! {
                                        <tr data-kind=item.kind.clone() data-sequence=item.sequence.to_string() data-user=item.user_id.to_string()>
                                            <td class="nowrap" data-label="时间" title=item.at.clone()>{month_day(&item.at)}" "<b>{hhmm(&item.at)}</b>{shift_day}</td>
                                            <td data-label="人员">{names.get(&item.user_id).cloned().unwrap_or_else(|| format!("#{}", item.user_id))}</td>
                                            <td data-label="类型">{kind_text(&item.kind, item.sequence)}</td>
                                            <td class="muted" data-label="渠道">{item.channel.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn TodayDeliveries(deliveries: Vec<DeliveryView>) -> impl IntoView {
    view! {
        <section class="card">
            <div class="page-head">
                <h2>"今日发送"</h2>
                <a href="/deliveries">"发送记录"</a>
            </div>
            {if deliveries.is_empty() {
                view! { <p class="muted" data-testid="no-today-deliveries">"今天还没有发送记录"</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table stack" id="today-deliveries">
                            <thead><tr><th>"时间"</th><th>"人员"</th><th>"类型"</th><th>"状态"</th><th>"渠道"</th></tr></thead>
                            <tbody>
                                {deliveries.into_iter().map(|item| {
                                    let time = item.sent_at.as_deref().map_or_else(|| hhmm(&item.due_at), hhmm);
                                    let late = item.lateness_secs.map(lateness_text).unwrap_or_default();
                                    view! {
                                        <tr data-status=item.status.clone() data-kind=item.kind.clone()>
                                            <td class="nowrap" data-label="时间" title=late>{time}</td>
                                            <td data-label="人员">{item.user_name.clone()}</td>
                                            <td data-label="类型">{kind_text(&item.kind, item.sequence)}</td>
                                            <td data-label="状态"><span class=status_class(&item.status)>{item.status_label.clone()}</span></td>
                                            <td class="muted" data-label="渠道">{item.channel.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn OverviewCard(overview: SystemOverview) -> impl IntoView {
    let clock = live_clock(&overview.local_time);
    view! {
        <section class="card">
            <h2>"系统概况"</h2>
            <dl class="facts">
                <dt>"当前时间"</dt>
                <dd>
                    <time class="live-clock" data-testid="live-clock">{clock}</time>
                    " "
                    <span class="muted">{format!("{} (UTC{})", overview.timezone, overview.utc_offset)}</span>
                </dd>
                <dt>"打卡提醒"</dt>
                <dd>
                    {if overview.reminder_enabled {
                        view! { <span class="badge ok">"已开启"</span> }.into_any()
                    } else {
                        view! { <span class="badge off">"已关闭 (REMINDER_ENABLED=false)"</span> }.into_any()
                    }}
                </dd>
                <dt>"下班提醒延后"</dt>
                <dd>{format!("{} 分钟 (WORK_OVERTIME)", overview.work_overtime_min)}</dd>
                <dt>"版本"</dt>
                <dd>{overview.version}</dd>
            </dl>
        </section>
    }
}

/// The server's wall-clock time, advanced every second once the page runs in the browser.
fn live_clock(server_time: &str) -> impl Fn() -> String + use<> {
    let start = chrono::NaiveDateTime::parse_from_str(server_time, "%Y-%m-%d %H:%M:%S").ok();
    let (elapsed_secs, set_elapsed_secs) = signal(0i64);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || set_elapsed_secs.update(|s| *s += 1),
            std::time::Duration::from_secs(1),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_elapsed_secs;
    let fallback = server_time.to_owned();
    move || match start {
        Some(start) => (start + chrono::Duration::seconds(elapsed_secs.get()))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => fallback.clone(),
    }
}
