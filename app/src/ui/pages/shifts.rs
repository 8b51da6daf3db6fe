//! 班次管理 (`/shifts`): everyone sees the shift types; admins create, edit, archive and
//! delete them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{create_shift, list_shifts, remove_shift, update_shift};
use crate::ui::components::calendar::ShiftChip;
use crate::ui::components::form::{ActionResult, describe_error, non_empty};
use crate::ui::session::{AdminOnly, SessionContext};
use crate::wire::{NewShift, ShiftPatch, ShiftRemoval, ShiftView};

#[derive(Clone, PartialEq)]
enum Panel {
    None,
    Create,
    Edit(ShiftView),
}

#[component]
pub fn ShiftsPage() -> impl IntoView {
    let session = SessionContext::current();
    let version = RwSignal::new(0u32);
    let panel = RwSignal::new(Panel::None);
    let shifts = Resource::new(move || version.get(), |_| list_shifts(true));
    let reload = move || version.update(|v| *v += 1);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let remove = Action::new(|shift: &ShiftView| {
        let (id, name) = (shift.id, shift.name.clone());
        async move { remove_shift(id).await.map(|removal| (name, removal)) }
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok((name, ShiftRemoval::Deleted))) => {
            notice.set(Some(Ok(format!("已删除班次“{name}”"))));
            reload();
        }
        Some(Ok((name, ShiftRemoval::Archived))) => {
            notice.set(Some(Ok(format!(
                "班次“{name}”已有排班在用，已归档（不再出现在选择列表中，历史保留）"
            ))));
            reload();
        }
        Some(Err(error)) => notice.set(Some(Err(describe_error(&error)))),
        None => {}
    });

    view! {
        <Title text="班次管理" />
        <div class="page-head">
            <h1 class="page-title">"班次管理"</h1>
            <AdminOnly>
                <button type="button" class="button" on:click=move |_| panel.set(Panel::Create)>"新建班次"</button>
            </AdminOnly>
        </div>
        {move || match panel.get() {
            Panel::None => ().into_any(),
            Panel::Create => view! {
                <ShiftForm existing=None on_done=move || { panel.set(Panel::None); reload(); } on_cancel=move || panel.set(Panel::None) />
            }.into_any(),
            Panel::Edit(shift) => view! {
                <ShiftForm existing=Some(shift) on_done=move || { panel.set(Panel::None); reload(); } on_cancel=move || panel.set(Panel::None) />
            }.into_any(),
        }}
        {move || notice.get().map(|notice| match notice {
            Ok(text) => view! { <p class="alert ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="alert error" role="alert">{text}</p> }.into_any(),
        })}
        <section class="card">
            <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    let admin = session.load_is_admin().await;
                    match shifts.await {
                        Err(error) => view! { <p class="alert error">{describe_error(&error)}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table stack" data-testid="shift-table">
                                <thead>
                                    <tr>
                                        <th>"班次"</th><th>"时间"</th><th>"上班提醒"</th><th>"下班提醒"</th><th>"状态"</th><th>"备注"</th>
                                        {admin.then(|| view! { <th>"操作"</th> })}
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|shift| {
                                        let edit = shift.clone();
                                        let removing = shift.clone();
                                        let confirm_text = format!("删除班次“{}”？已有排班在用时将改为归档。", shift.name);
                                        view! {
                                            <tr data-shift=shift.name.clone() class:archived=!shift.active>
                                                <td data-label="班次"><ShiftChip shift=shift.clone() /></td>
                                                <td data-label="时间">{if shift.rest { "休息（不提醒）".to_owned() } else { format!("{}–{}{}", shift.start, if shift.overnight { "次日 " } else { "" }, shift.end) }}</td>
                                                <td data-label="上班提醒">{if shift.rest { "—".to_owned() } else { format!("提前 {} 分钟", shift.remind_before_min) }}</td>
                                                <td data-label="下班提醒">{if shift.rest { "—".to_owned() } else if shift.remind_after_default { format!("延后 {} 分钟（WORK_OVERTIME）", shift.remind_after_min) } else { format!("延后 {} 分钟", shift.remind_after_min) }}</td>
                                                <td data-label="状态">{if shift.active { view! { <span class="badge ok">"启用"</span> }.into_any() } else { view! { <span class="badge off">"已归档"</span> }.into_any() }}</td>
                                                <td class="muted" data-label="备注">{shift.note.clone().unwrap_or_default()}</td>
                                                {admin.then(|| view! {
                                                    <td class="row-actions">
                                                        <button type="button" class="link" on:click={
                                                            let edit = edit.clone();
                                                            move |_| panel.set(Panel::Edit(edit.clone()))
                                                        }>"编辑"</button>
                                                        <button type="button" class="link danger" on:click={
                                                            let removing = removing.clone();
                                                            let confirm_text = confirm_text.clone();
                                                            move |_| {
                                                                if window().confirm_with_message(&confirm_text).unwrap_or(false) {
                                                                    remove.dispatch(removing.clone());
                                                                }
                                                            }
                                                        }>"删除"</button>
                                                    </td>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ShiftForm(
    existing: Option<ShiftView>,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
    on_cancel: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let editing = existing.clone();
    let value = |get: fn(&ShiftView) -> String, default: &str| {
        RwSignal::new(existing.as_ref().map_or_else(|| default.to_owned(), get))
    };
    let name = value(|s| s.name.clone(), "");
    let label = value(|s| s.label.clone(), "");
    let color = value(|s| s.color.clone(), "#1677ff");
    let start = value(|s| s.start.clone(), "09:00");
    let end = value(|s| s.end.clone(), "18:00");
    let before = value(|s| s.remind_before_min.to_string(), "15");
    let after = value(
        |s| {
            if s.remind_after_default {
                String::new()
            } else {
                s.remind_after_min.to_string()
            }
        },
        "",
    );
    let follow_count = value(
        |s| s.follow_up_count.map(|n| n.to_string()).unwrap_or_default(),
        "",
    );
    let follow_every = value(
        |s| {
            s.follow_up_every_min
                .map(|n| n.to_string())
                .unwrap_or_default()
        },
        "",
    );
    let note = value(|s| s.note.clone().unwrap_or_default(), "");
    let rest = RwSignal::new(existing.as_ref().is_some_and(|s| s.rest));
    let active = RwSignal::new(existing.as_ref().is_none_or(|s| s.active));

    let save = Action::new(move |_: &()| {
        let editing = editing.clone();
        let minutes = |raw: String| raw.trim().parse::<u32>().ok();
        let (name, label, color, start, end) = (
            name.get_untracked(),
            label.get_untracked(),
            color.get_untracked(),
            start.get_untracked(),
            end.get_untracked(),
        );
        let (before, after, note, rest, active) = (
            before.get_untracked(),
            after.get_untracked(),
            note.get_untracked(),
            rest.get_untracked(),
            active.get_untracked(),
        );
        let (follow_count, follow_every) =
            (follow_count.get_untracked(), follow_every.get_untracked());
        async move {
            // Empty follows the global setting (系统设置).
            let optional = |field: &'static str, raw: &str, expected: &'static str| match raw.trim()
            {
                "" => Ok(None),
                raw => raw
                    .parse::<u32>()
                    .map(Some)
                    .map_err(|_| crate::AppError::invalid(field, expected)),
            };
            let follow_up_count = optional("follow_up_count", &follow_count, "应为 0–10 的整数")?;
            let follow_up_every_min =
                optional("follow_up_every_min", &follow_every, "应为 1–240 的整数")?;
            let before_min = match minutes(before.clone()) {
                Some(value) => value,
                None => {
                    return Err(crate::AppError::invalid(
                        "remind_before_min",
                        "应为 0–1440 的整数",
                    ));
                }
            };
            let after_min = match after.trim() {
                "" => None,
                raw => Some(minutes(raw.to_owned()).ok_or_else(|| {
                    crate::AppError::invalid("remind_after_min", "应为 0–1440 的整数")
                })?),
            };
            match editing {
                None => {
                    create_shift(NewShift {
                        name,
                        label,
                        color: Some(color),
                        start,
                        end,
                        rest: Some(rest),
                        remind_before_min: Some(before_min),
                        remind_after_min: after_min,
                        follow_up_count,
                        follow_up_every_min,
                        note: non_empty(note),
                        active: Some(active),
                    })
                    .await
                }
                Some(shift) => {
                    update_shift(
                        shift.id,
                        ShiftPatch {
                            name: Some(name),
                            label: Some(label),
                            color: Some(color),
                            start: Some(start),
                            end: Some(end),
                            rest: Some(rest),
                            remind_before_min: Some(before_min),
                            remind_after_min: Some(after_min),
                            follow_up_count: Some(follow_up_count),
                            follow_up_every_min: Some(follow_up_every_min),
                            note: Some(non_empty(note)),
                            active: Some(active),
                        },
                    )
                    .await
                }
            }
        }
    });
    let done = on_done.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            done();
        }
    });
    let title = if existing.is_some() {
        "编辑班次"
    } else {
        "新建班次"
    };
    let text_input = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <section class="card form-card">
            <h2>{title}</h2>
            <form class="form-grid" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <label>"名称"<input name="name" required maxlength="20" placeholder="例如 早班" prop:value=move || name.get() on:input=text_input(name) /></label>
                <label>"简称（1–2 个字）"<input name="label" required maxlength="2" placeholder="早" prop:value=move || label.get() on:input=text_input(label) /></label>
                <label>"颜色"<input name="color" type="color" prop:value=move || color.get() on:input=text_input(color) /></label>
                <label>"上班时间"<input name="start" type="time" required prop:value=move || start.get() on:input=text_input(start) /></label>
                <label>"下班时间（早于上班时间即为次日）"<input name="end" type="time" required prop:value=move || end.get() on:input=text_input(end) /></label>
                <label>"上班前提醒（分钟）"<input name="remind_before_min" type="number" min="0" max="1440" prop:value=move || before.get() on:input=text_input(before) /></label>
                <label>"下班后提醒（分钟，留空跟随 WORK_OVERTIME）"<input name="remind_after_min" type="number" min="0" max="1440" prop:value=move || after.get() on:input=text_input(after) /></label>
                <label>"追加提醒次数（0–10，留空跟随系统设置）"<input name="follow_up_count" type="number" min="0" max="10" prop:value=move || follow_count.get() on:input=text_input(follow_count) /></label>
                <label>"追加提醒间隔（分钟，留空跟随系统设置）"<input name="follow_up_every_min" type="number" min="1" max="240" prop:value=move || follow_every.get() on:input=text_input(follow_every) /></label>
                <label>"备注"<input name="note" maxlength="200" prop:value=move || note.get() on:input=text_input(note) /></label>
                <label class="check"><input type="checkbox" name="rest" prop:checked=move || rest.get() on:change=move |ev| rest.set(event_target_checked(&ev)) />"休息班次（休息、年假、调休、病假：不提醒）"</label>
                <label class="check"><input type="checkbox" name="active" prop:checked=move || active.get() on:change=move |ev| active.set(event_target_checked(&ev)) />"启用（取消即归档）"</label>
                <div class="form-actions">
                    <button type="submit" class="button" disabled=move || save.pending().get()>"保存"</button>
                    <button type="button" class="button ghost" on:click=move |_| on_cancel()>"取消"</button>
                </div>
            </form>
            <ActionResult value=move || save.value().get() success="" />
        </section>
    }
}
