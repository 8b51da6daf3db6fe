//! 节假日 (`/holidays`): a year's statutory holidays and make-up workdays, company days,
//! and (admins) importing a holiday-cn year file.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{holiday_year, import_holiday_file, remove_company_day, save_company_day};
use crate::domain::period::weekday_name;
use crate::ui::browser::read_chosen_file;
use crate::ui::components::form::{ActionResult, describe_error};
use crate::ui::session::{AdminOnly, SessionContext};
use crate::wire::{CompanyDayInput, HolidayEntry};

const FILE_INPUT_ID: &str = "holiday-file";

#[component]
pub fn HolidaysPage() -> impl IntoView {
    let session = SessionContext::current();
    // 0 until the first answer: the server's current year.
    let year = RwSignal::new(0i32);
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (year.get(), version.get()),
        |(year, _)| holiday_year((year != 0).then_some(year)),
    );
    let reload = move || version.update(|v| *v += 1);

    let import = Action::new_local(|_: &()| async move {
        let (_, bytes) = read_chosen_file(
            FILE_INPUT_ID,
            crate::domain::holiday::HOLIDAY_FILE_MAX_BYTES,
        )
        .await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| crate::AppError::invalid("file", "文件不是 UTF-8 文本"))?;
        import_holiday_file(text).await
    });
    Effect::new(move |_| {
        if let Some(Ok(imported)) = import.value().get() {
            year.set(imported.year);
            reload();
        }
    });
    let remove = Action::new(|date: &NaiveDate| {
        let date = *date;
        async move { remove_company_day(date).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            reload();
        }
    });

    view! {
        <Title text="节假日" />
        <h1 class="page-title">"节假日与调休"</h1>
        <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
            {move || Suspend::new(async move {
                let admin = session.load_is_admin().await;
                match data.await {
                    Err(error) => view! { <p class="alert error">{describe_error(&error)}</p> }.into_any(),
                    Ok(view_year) => {
                        let shown = view_year.year;
                        view! {
                            <section class="card">
                                <div class="calendar-nav">
                                    <button type="button" class="button ghost" aria-label="上一年" on:click=move |_| year.set(shown - 1)>"‹"</button>
                                    <h2 class="calendar-title" data-testid="holiday-year">{format!("{shown} 年")}</h2>
                                    <button type="button" class="button ghost" aria-label="下一年" on:click=move |_| year.set(shown + 1)>"›"</button>
                                    <span class="muted">{match view_year.statutory_source.as_str() {
                                        "builtin" => "内置法定节假日数据".to_owned(),
                                        "imported" => "已导入的法定节假日数据".to_owned(),
                                        _ => format!("{shown} 年暂无法定节假日数据：按周一至周五为工作日计算，可在下方导入"),
                                    }}</span>
                                </div>
                                <HolidayTable days=view_year.days.clone() admin remove />
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <AdminOnly>
            <section class="card">
                <h2>"公司休息日 / 工作日"</h2>
                <p class="muted">"覆盖法定安排，例如公司统一放假或额外上班的日子。"</p>
                <CompanyDayForm on_saved=reload />
            </section>
            <section class="card">
                <h2>"导入节假日数据"</h2>
                <p class="muted">
                    "每年国务院公布安排后，可导入 holiday-cn 格式的 JSON 文件（"
                    <a href="https://github.com/NateScarlet/holiday-cn" rel="noopener noreferrer" target="_blank">"NateScarlet/holiday-cn"</a>
                    "），替换该年的数据。"
                </p>
                <form class="row-form" on:submit=move |ev| { ev.prevent_default(); import.dispatch(()); }>
                    <input id=FILE_INPUT_ID type="file" accept=".json,application/json" required />
                    <button type="submit" class="button" disabled=move || import.pending().get()>"导入"</button>
                </form>
                {move || match import.value().get() {
                    Some(Ok(imported)) => view! {
                        <p class="alert ok" role="status">{format!("已导入 {} 年：{} 天", imported.year, imported.days.iter().filter(|day| day.source == "statutory").count())}</p>
                    }.into_any(),
                    Some(Err(error)) => view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </section>
        </AdminOnly>
    }
}

#[component]
fn HolidayTable(
    days: Vec<HolidayEntry>,
    admin: bool,
    remove: Action<NaiveDate, Result<(), crate::AppError>>,
) -> impl IntoView {
    if days.is_empty() {
        return view! { <p class="muted">"本年没有列出的节假日或调休。"</p> }.into_any();
    }
    view! {
        <table class="table" data-testid="holiday-table">
            <thead><tr><th>"日期"</th><th>"名称"</th><th>"安排"</th><th>"来源"</th><th></th></tr></thead>
            <tbody>
                {days.into_iter().map(|day| {
                    let date = day.date;
                    let company = day.source == "company";
                    view! {
                        <tr data-date=date.to_string()>
                            <td>{format!("{} 周{}", date.format("%Y-%m-%d"), weekday_name(date))}</td>
                            <td>{day.name.clone()}</td>
                            <td>{if day.off_day { view! { <span class="badge off">"休"</span> }.into_any() } else { view! { <span class="badge ok">"班"</span> }.into_any() }}</td>
                            <td class="muted">{if company { "公司" } else { "法定" }}</td>
                            <td>{(company && admin).then(|| view! {
                                <button type="button" class="link danger" on:click=move |_| { remove.dispatch(date); }>"删除"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn CompanyDayForm(on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let date = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let off_day = RwSignal::new(true);
    let save = Action::new(move |_: &()| {
        let (date, name, off_day) = (
            date.get_untracked(),
            name.get_untracked(),
            off_day.get_untracked(),
        );
        async move {
            let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .map_err(|_| crate::AppError::invalid("date", "请选择日期"))?;
            save_company_day(CompanyDayInput {
                date,
                name,
                off_day,
            })
            .await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            on_saved();
        }
    });
    view! {
        <form class="row-form" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <input type="date" aria-label="日期" required prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev)) />
            <input aria-label="名称" placeholder="名称，例如 公司年会" maxlength="32" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <select aria-label="安排" on:change=move |ev| off_day.set(event_target_value(&ev) == "off")>
                <option value="off" selected>"休息"</option>
                <option value="work">"上班"</option>
            </select>
            <button type="submit" class="button" disabled=move || save.pending().get()>"保存"</button>
        </form>
        <ActionResult value=move || save.value().get() success="已保存" />
    }
}
