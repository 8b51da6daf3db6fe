//! 批量排班 (`/schedule/batch`, admins): people, dates, a rotation or weekday template,
//! holiday options; preview, then commit all-or-nothing.

use std::collections::HashMap;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{commit_batch, list_members, list_shifts, preview_batch};
use crate::domain::period::weekday_name;
use crate::domain::plan::{
    Existing, HolidayRule, Outcome, Pattern, PlanRequest, PlanRule, PlanUser,
};
use crate::ui::components::calendar::ShiftChip;
use crate::ui::components::form::describe_error;
use crate::wire::{BatchPreview, ShiftView, TeamMember};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rotation,
    Weekdays,
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

fn shift_id(raw: &str) -> Option<i32> {
    raw.parse().ok()
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let loaded = Resource::new(
        || (),
        |_| async move { Ok::<_, crate::AppError>((list_members().await?, list_shifts(false).await?)) },
    );
    view! {
        <Title text="批量排班" />
        <div class="page-head">
            <h1 class="page-title">"批量排班"</h1>
            <a class="button ghost" href="/schedule/team">"返回团队排班"</a>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok((members, shifts)) => view! { <BatchForm members shifts /> }.into_any(),
                    Err(error) => view! { <p class="alert error">{describe_error(&error)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn BatchForm(members: Vec<TeamMember>, shifts: Vec<ShiftView>) -> impl IntoView {
    let chosen = RwSignal::new(Vec::<i32>::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let kind = RwSignal::new(Kind::Rotation);
    let cycle = RwSignal::new(Vec::<Option<i32>>::new());
    let next_slot = RwSignal::new(
        shifts
            .first()
            .map(|shift| shift.id.to_string())
            .unwrap_or_default(),
    );
    let anchor = RwSignal::new(String::new());
    let stagger = RwSignal::new("0".to_owned());
    let weekdays: [RwSignal<String>; 7] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let holiday_rest = RwSignal::new(String::new());
    let makeup_work = RwSignal::new(String::new());
    let overwrite = RwSignal::new(false);
    let message = RwSignal::new(None::<Result<String, String>>);
    let preview = RwSignal::new(None::<BatchPreview>);

    let shift_map: HashMap<i32, ShiftView> = shifts
        .iter()
        .map(|shift| (shift.id, shift.clone()))
        .collect();
    let shift_map = StoredValue::new(shift_map);
    let member_names: HashMap<i32, String> = members
        .iter()
        .map(|member| (member.id, member.display_name.clone()))
        .collect();
    let member_names = StoredValue::new(member_names);

    let request = move || -> Result<PlanRequest, String> {
        let from = parse_date(&from.get_untracked()).ok_or("请选择开始日期")?;
        let to = parse_date(&to.get_untracked()).ok_or("请选择结束日期")?;
        let step: u32 = stagger
            .get_untracked()
            .trim()
            .parse()
            .map_err(|_| "每人错开天数应为整数")?;
        let users: Vec<PlanUser> = chosen
            .get_untracked()
            .iter()
            .enumerate()
            .map(|(index, user_id)| PlanUser {
                user_id: *user_id,
                offset: step * index as u32,
            })
            .collect();
        let pattern = match kind.get_untracked() {
            Kind::Rotation => Pattern::Rotation {
                anchor: parse_date(&anchor.get_untracked()).unwrap_or(from),
                cycle: cycle.get_untracked(),
            },
            Kind::Weekdays => Pattern::Weekdays(std::array::from_fn(|day| {
                shift_id(&weekdays[day].get_untracked())
            })),
        };
        Ok(PlanRequest {
            users,
            from,
            to,
            pattern,
            holidays: HolidayRule {
                rest_on_holidays: shift_id(&holiday_rest.get_untracked()),
                work_on_makeup_days: shift_id(&makeup_work.get_untracked()),
            },
            existing: if overwrite.get_untracked() {
                Existing::Overwrite
            } else {
                Existing::Keep
            },
        })
    };
    let run_preview = Action::new(move |request: &PlanRequest| {
        let request = request.clone();
        async move { preview_batch(request).await }
    });
    let run_commit = Action::new(move |request: &PlanRequest| {
        let request = request.clone();
        async move { commit_batch(request).await }
    });
    Effect::new(move |_| match run_preview.value().get() {
        Some(Ok(result)) => {
            message.set(None);
            preview.set(Some(result));
        }
        Some(Err(error)) => {
            preview.set(None);
            message.set(Some(Err(describe_error(&error))));
        }
        None => {}
    });
    Effect::new(move |_| match run_commit.value().get() {
        Some(Ok(summary)) => {
            preview.set(None);
            message.set(Some(Ok(format!(
                "已写入 {} 条排班（未变 {} 条）",
                summary.written, summary.unchanged
            ))));
        }
        Some(Err(error)) => message.set(Some(Err(format!(
            "未写入任何数据：{}",
            describe_error(&error)
        )))),
        None => {}
    });
    let submit_preview = move || match request() {
        Ok(request) => {
            run_preview.dispatch(request);
        }
        Err(text) => message.set(Some(Err(text))),
    };
    let submit_commit = move || match request() {
        Ok(request) => {
            run_commit.dispatch(request);
        }
        Err(text) => message.set(Some(Err(text))),
    };
    // Any change to the form invalidates the preview.
    Effect::new(move |_| {
        chosen.track();
        from.track();
        to.track();
        kind.track();
        cycle.track();
        anchor.track();
        stagger.track();
        holiday_rest.track();
        makeup_work.track();
        overwrite.track();
        for day in weekdays {
            day.track();
        }
        preview.set(None);
    });

    let shift_options = move |with_none: &'static str| {
        let options = shift_map.with_value(|map| {
            let mut list: Vec<ShiftView> = map.values().cloned().collect();
            list.sort_by_key(|shift| shift.id);
            list
        });
        view! {
            <option value="">{with_none}</option>
            {options.into_iter().map(|shift| view! { <option value=shift.id.to_string()>{format!("{}（{}）", shift.name, shift.label)}</option> }).collect_view()}
        }
    };
    let all_ids: Vec<i32> = members.iter().map(|member| member.id).collect();

    view! {
        <section class="card">
            <h2>"1. 选择人员"</h2>
            <div class="row-form">
                <button type="button" class="button ghost" on:click={
                    let all_ids = all_ids.clone();
                    move |_| chosen.set(all_ids.clone())
                }>"全选"</button>
                <button type="button" class="button ghost" on:click=move |_| chosen.set(Vec::new())>"清空"</button>
                <span class="muted">{move || format!("已选 {} 人（按勾选顺序错开轮班）", chosen.with(Vec::len))}</span>
            </div>
            <div class="checkbox-grid" data-testid="batch-members">
                {members.into_iter().map(|member| {
                    let id = member.id;
                    view! {
                        <label class="check">
                            <input type="checkbox" data-username=member.username.clone()
                                prop:checked=move || chosen.with(|list| list.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|list| {
                                        list.retain(|other| *other != id);
                                        if on { list.push(id); }
                                    });
                                }
                            />
                            {format!("{}（{}）", member.display_name, member.username)}
                        </label>
                    }
                }).collect_view()}
            </div>
        </section>
        <section class="card">
            <h2>"2. 日期与规则"</h2>
            <div class="form-grid">
                <label>"开始日期"<input type="date" name="from" required prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) /></label>
                <label>"结束日期（最多 366 天）"<input type="date" name="to" required prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) /></label>
            </div>
            <div class="segmented" role="group" aria-label="规则">
                <button type="button" aria-pressed=move || (kind.get() == Kind::Rotation).to_string() on:click=move |_| kind.set(Kind::Rotation)>"轮班循环"</button>
                <button type="button" aria-pressed=move || (kind.get() == Kind::Weekdays).to_string() on:click=move |_| kind.set(Kind::Weekdays)>"按星期"</button>
            </div>
            <Show when=move || kind.get() == Kind::Rotation fallback=move || view! {
                <div class="weekday-template">
                    {["周一", "周二", "周三", "周四", "周五", "周六", "周日"].into_iter().enumerate().map(|(index, name)| {
                        let signal = weekdays[index];
                        view! {
                            <label>{name}
                                <select name=format!("weekday{index}") on:change=move |ev| signal.set(event_target_value(&ev))>
                                    {shift_options("（不排）")}
                                </select>
                            </label>
                        }
                    }).collect_view()}
                </div>
            }>
                <div class="rotation">
                    <div class="row-form">
                        <select aria-label="班次" name="slot" on:change=move |ev| next_slot.set(event_target_value(&ev))>
                            {shift_options("（空，不排）")}
                        </select>
                        <button type="button" class="button ghost" data-testid="add-slot" on:click=move |_| {
                            let slot = shift_id(&next_slot.get_untracked());
                            cycle.update(|list| list.push(slot));
                        }>"添加到循环"</button>
                        <button type="button" class="button ghost" on:click=move |_| cycle.set(Vec::new())>"清空循环"</button>
                    </div>
                    <ol class="cycle" data-testid="cycle">
                        {move || cycle.get().into_iter().enumerate().map(|(index, slot)| {
                            let chip = slot.and_then(|id| shift_map.with_value(|map| map.get(&id).cloned()));
                            view! {
                                <li>
                                    {match chip {
                                        Some(shift) => view! { <ShiftChip shift compact=true /> }.into_any(),
                                        None => view! { <span class="muted">"空"</span> }.into_any(),
                                    }}
                                    <button type="button" class="link" aria-label="移除" on:click=move |_| cycle.update(|list| { list.remove(index); })>"×"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                    <div class="form-grid">
                        <label>"循环起点（第一格对应的日期，默认开始日期）"<input type="date" name="anchor" prop:value=move || anchor.get() on:input=move |ev| anchor.set(event_target_value(&ev)) /></label>
                        <label>"每人错开天数（第 2 人从第 1+N 格开始…）"<input type="number" name="stagger" min="0" max="62" prop:value=move || stagger.get() on:input=move |ev| stagger.set(event_target_value(&ev)) /></label>
                    </div>
                </div>
            </Show>
            <div class="form-grid">
                <label>"法定节假日改排"<select name="holiday_rest" on:change=move |ev| holiday_rest.set(event_target_value(&ev))>{shift_options("（按规则，不改）")}</select></label>
                <label>"调休上班日（周末补班）改排"<select name="makeup_work" on:change=move |ev| makeup_work.set(event_target_value(&ev))>{shift_options("（按规则，不改）")}</select></label>
            </div>
            <fieldset class="radio-row">
                <legend>"已有排班"</legend>
                <label class="check"><input type="radio" name="existing" checked=true on:change=move |_| overwrite.set(false) />"保留（只填空白日期）"</label>
                <label class="check"><input type="radio" name="existing" on:change=move |_| overwrite.set(true) />"覆盖"</label>
            </fieldset>
            <div class="form-actions">
                <button type="button" class="button" data-testid="batch-preview" disabled=move || run_preview.pending().get() on:click=move |_| submit_preview()>"预览"</button>
            </div>
        </section>
        {move || message.get().map(|result| match result {
            Ok(text) => view! { <p class="alert ok" role="status" data-testid="batch-message">{text}</p> }.into_any(),
            Err(text) => view! { <p class="alert error" role="alert" data-testid="batch-message">{text}</p> }.into_any(),
        })}
        {move || preview.get().map(|result| {
            let summary = result.summary;
            let shown = result.rows.len();
            view! {
                <section class="card" data-testid="batch-result">
                    <h2>"3. 预览"</h2>
                    <p>{format!("共 {} 条：新增 {}，覆盖 {}，保留原排班 {}，不变 {}。", result.total, summary.new, summary.replaced, summary.kept, summary.unchanged)}</p>
                    {(shown < result.total).then(|| view! { <p class="muted">{format!("下表显示前 {shown} 条（变化优先）。")}</p> })}
                    <div class="table-scroll">
                        <table class="table">
                            <thead><tr><th>"日期"</th><th>"人员"</th><th>"班次"</th><th>"结果"</th><th>"依据"</th></tr></thead>
                            <tbody>
                                {result.rows.into_iter().map(|day| {
                                    let shift = shift_map.with_value(|map| map.get(&day.shift_id).cloned());
                                    let name_of = |id: i32| shift_map.with_value(|map| map.get(&id).map_or_else(|| id.to_string(), |shift| shift.name.clone()));
                                    let (outcome, class) = match day.outcome {
                                        Outcome::New => ("新增".to_owned(), "badge ok"),
                                        Outcome::Unchanged => ("不变".to_owned(), "badge off"),
                                        Outcome::Replace { previous } => (format!("覆盖 {}", name_of(previous)), "badge warn"),
                                        Outcome::Kept { previous } => (format!("保留 {}", name_of(previous)), "badge off"),
                                    };
                                    view! {
                                        <tr>
                                            <td>{format!("{} 周{}", day.date, weekday_name(day.date))}</td>
                                            <td>{member_names.with_value(|names| names.get(&day.user_id).cloned().unwrap_or_default())}</td>
                                            <td>{shift.map(|shift| view! { <ShiftChip shift compact=true /> })}</td>
                                            <td><span class=class>{outcome}</span></td>
                                            <td class="muted">{match day.rule { PlanRule::Pattern => "规则", PlanRule::HolidayRest => "法定节假日", PlanRule::MakeUpWork => "调休上班" }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <div class="form-actions">
                        <button type="button" class="button" data-testid="batch-commit" disabled=move || run_commit.pending().get() || summary.writes() == 0
                            on:click=move |_| submit_commit()>{format!("确认写入 {} 条", summary.writes())}</button>
                    </div>
                </section>
            }
        })}
    }
}
