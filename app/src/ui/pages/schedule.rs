//! 我的排班 (`/schedule`) and 团队排班 (`/schedule/team`, admins): the calendar.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::calendar::ScheduleCalendar;

#[component]
pub fn SchedulePage() -> impl IntoView {
    view! {
        <Title text="我的排班" />
        <div class="page-head">
            <h1 class="page-title">"我的排班"</h1>
            <a class="button ghost" href="/schedule/import">"导入 / 导出"</a>
        </div>
        <p class="muted hint">"点击日期选择班次；拖动或按住 Shift 点击可一次选择多天。"</p>
        <section class="card">
            <ScheduleCalendar />
        </section>
    }
}

#[component]
pub fn TeamSchedulePage() -> impl IntoView {
    view! {
        <Title text="团队排班" />
        <div class="page-head">
            <h1 class="page-title">"团队排班"</h1>
            <div class="actions">
                <a class="button ghost" href="/schedule/batch">"批量排班"</a>
                <a class="button ghost" href="/schedule/import">"导入 / 导出"</a>
            </div>
        </div>
        <p class="muted hint">"拖动选择多人多天，一次排班或清除；方向键移动，回车选择班次。"</p>
        <section class="card">
            <ScheduleCalendar team=true />
        </section>
    }
}
