use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{SystemOverview, get_overview};

#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="首页" />
        <h1 class="page-title">"首页"</h1>
        <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
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
