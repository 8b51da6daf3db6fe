//! The schedule calendar: one person's month or week, or the admin's team grid (people ×
//! days). Both share one editor: click a day, drag or shift-click a range (in the team grid
//! a rectangle of people × days), or use the keyboard (arrows, Shift+arrows, Enter,
//! Delete, Esc); pick a shift from the popover. Changes show at once and roll back with
//! a message if the server refuses them.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use leptos::prelude::*;

use crate::api::{load_calendar, save_schedule};
use crate::domain::period::{Span, step, visible_range, weekday_name};
use crate::wire::{CalendarData, ScheduleEntry, ScheduleWrite, ShiftView, TeamMember};

/// A position in the editor: which member row, which date.
type Cell = (usize, NaiveDate);
type Key = (i32, NaiveDate);

use crate::ui::components::form::describe_error;

fn title(anchor: NaiveDate, span: Span) -> String {
    match span {
        Span::Month => format!("{} 年 {} 月", anchor.year(), anchor.month()),
        Span::Week => {
            let (from, to) = visible_range(anchor, Span::Week, false);
            format!(
                "{} 年 {} 月 {} 日 – {} 月 {} 日",
                from.year(),
                from.month(),
                from.day(),
                to.month(),
                to.day()
            )
        }
    }
}

/// Selection, popover and unsaved-change state of one calendar.
#[derive(Clone, Copy)]
struct Editor {
    /// Where a selection started and where it ends (the keyboard cursor).
    anchor: RwSignal<Option<Cell>>,
    focus: RwSignal<Option<Cell>>,
    dragging: RwSignal<bool>,
    picker: RwSignal<bool>,
    /// Edits made here, over what the server sent: `None` = cleared.
    overrides: RwSignal<HashMap<Key, Option<ScheduleEntry>>>,
    message: RwSignal<Option<(bool, String)>>,
    /// The server's entries by (user, date): a 200-person month has thousands of cells.
    index: StoredValue<HashMap<Key, ScheduleEntry>>,
}

impl Editor {
    fn new() -> Self {
        Self {
            anchor: RwSignal::new(None),
            focus: RwSignal::new(None),
            dragging: RwSignal::new(false),
            picker: RwSignal::new(false),
            overrides: RwSignal::new(HashMap::new()),
            index: StoredValue::new(HashMap::new()),
            message: RwSignal::new(None),
        }
    }

    fn entry(&self, user_id: i32, date: NaiveDate) -> Option<ScheduleEntry> {
        let key = (user_id, date);
        if let Some(local) = self.overrides.with(|map| map.get(&key).cloned()) {
            return local;
        }
        self.index.with_value(|index| index.get(&key).cloned())
    }

    /// The selected cells, as (row, date) pairs in the rectangle anchor–focus.
    fn selected(&self, rows: usize) -> Vec<Cell> {
        let (Some(anchor), Some(focus)) = (self.anchor.get(), self.focus.get()) else {
            return Vec::new();
        };
        let (top, bottom) = (
            anchor.0.min(focus.0),
            anchor.0.max(focus.0).min(rows.saturating_sub(1)),
        );
        let (first, last) = (anchor.1.min(focus.1), anchor.1.max(focus.1));
        (top..=bottom)
            .flat_map(|row| {
                first
                    .iter_days()
                    .take_while(move |date| *date <= last)
                    .map(move |date| (row, date))
            })
            .collect()
    }

    fn is_selected(&self, cell: Cell) -> bool {
        let (Some(anchor), Some(focus)) = (self.anchor.get(), self.focus.get()) else {
            return false;
        };
        let rows = anchor.0.min(focus.0)..=anchor.0.max(focus.0);
        let dates = anchor.1.min(focus.1)..=anchor.1.max(focus.1);
        rows.contains(&cell.0) && dates.contains(&cell.1)
    }

    fn press(&self, cell: Cell, extend: bool) {
        if extend && self.anchor.get_untracked().is_some() {
            self.focus.set(Some(cell));
        } else {
            self.anchor.set(Some(cell));
            self.focus.set(Some(cell));
        }
        self.picker.set(false);
        self.dragging.set(true);
    }

    fn enter(&self, cell: Cell) {
        if self.dragging.get_untracked() {
            self.focus.set(Some(cell));
        }
    }

    fn release(&self) {
        if self.dragging.get_untracked() {
            self.dragging.set(false);
            self.picker.set(true);
        }
    }

    fn clear_selection(&self) {
        self.picker.set(false);
        self.anchor.set(None);
        self.focus.set(None);
    }

    /// Assigns `shift` (or clears, with `None`) on every selected cell: shown at once,
    /// saved in one all-or-nothing request, rolled back if the server refuses.
    fn assign(&self, data: &CalendarData, members: &[TeamMember], shift: Option<&ShiftView>) {
        let cells = self.selected(members.len());
        if cells.is_empty() {
            return;
        }
        let mut items = Vec::new();
        let mut previous = Vec::new();
        for (row, date) in cells {
            let Some(member) = members.get(row) else {
                continue;
            };
            if !data.days.iter().any(|day| day.date == date) {
                continue;
            }
            let key = (member.id, date);
            let current = self.entry(member.id, date);
            let note = current.as_ref().and_then(|entry| entry.note.clone());
            previous.push((
                key,
                self.overrides.with_untracked(|map| map.get(&key).cloned()),
            ));
            let next = shift.map(|shift| ScheduleEntry {
                user_id: member.id,
                date,
                shift_id: shift.id,
                note: note.clone(),
            });
            self.overrides.update(|map| {
                map.insert(key, next);
            });
            items.push(ScheduleWrite {
                user_id: member.id,
                date,
                shift_id: shift.map(|shift| shift.id),
                note,
            });
        }
        self.picker.set(false);
        let count = items.len();
        let what = shift.map_or_else(
            || "清除".to_owned(),
            |shift| format!("排为“{}”", shift.name),
        );
        let editor = *self;
        self.message
            .set(Some((false, format!("正在保存 {count} 天……"))));
        leptos::task::spawn_local(async move {
            match save_schedule(items).await {
                Ok(_) => editor
                    .message
                    .set(Some((false, format!("已保存：{count} 天{what}")))),
                Err(error) => {
                    editor.overrides.update(|map| {
                        for (key, before) in previous {
                            match before {
                                Some(value) => map.insert(key, value),
                                None => map.remove(&key),
                            };
                        }
                    });
                    editor.message.set(Some((
                        true,
                        format!("保存失败，已撤销：{}", describe_error(&error)),
                    )));
                }
            }
        });
    }

    /// Arrow keys move the cursor (a day; up/down a week in the personal calendar, a
    /// person in the team grid); Shift extends the selection.
    fn keyboard(
        &self,
        key: &str,
        shift_key: bool,
        team: bool,
        rows: usize,
        range: (NaiveDate, NaiveDate),
    ) -> bool {
        let current = self.focus.get_untracked();
        let moved = |cell: Cell| -> Cell {
            let (row, date) = cell;
            let candidate = match key {
                "ArrowLeft" => (row, date - Days::new(1)),
                "ArrowRight" => (row, date + Days::new(1)),
                "ArrowUp" if team => (row.saturating_sub(1), date),
                "ArrowDown" if team => ((row + 1).min(rows.saturating_sub(1)), date),
                "ArrowUp" => (row, date - Days::new(7)),
                "ArrowDown" => (row, date + Days::new(7)),
                _ => (row, date),
            };
            if candidate.1 < range.0 || candidate.1 > range.1 {
                cell
            } else {
                candidate
            }
        };
        match key {
            "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" => {
                let next = match current {
                    Some(cell) => moved(cell),
                    None => (0, range.0),
                };
                if !(shift_key && self.anchor.get_untracked().is_some()) {
                    self.anchor.set(Some(next));
                }
                self.focus.set(Some(next));
                true
            }
            "Enter" | " " if current.is_some() => {
                self.picker.set(true);
                true
            }
            "Escape" => {
                if self.picker.get_untracked() {
                    self.picker.set(false);
                } else {
                    self.clear_selection();
                }
                true
            }
            _ => false,
        }
    }
}

/// A shift chip in its colour: label, and name with times when there is room.
#[component]
pub fn ShiftChip(shift: ShiftView, #[prop(optional)] compact: bool) -> impl IntoView {
    let style = format!("--chip: {}", shift.color);
    let times = if shift.rest {
        "休息".to_owned()
    } else {
        format!(
            "{}–{}{}",
            shift.start,
            if shift.overnight { "次日" } else { "" },
            shift.end
        )
    };
    view! {
        <span class="chip" class:rest=shift.rest style=style data-shift=shift.name.clone() title=format!("{} {}", shift.name, times)>
            <b class="chip-label">{shift.label.clone()}</b>
            {(!compact).then(|| view! {
                <span class="chip-name">{shift.name.clone()}</span>
                <span class="chip-times">{times.clone()}</span>
            })}
        </span>
    }
}

/// The editable calendar. `team` shows the admin's people × days grid.
#[component]
pub fn ScheduleCalendar(#[prop(optional)] team: bool) -> impl IntoView {
    let editor = Editor::new();
    let span = RwSignal::new(Span::Month);
    // `None` until the server says what today is.
    let anchor = RwSignal::new(None::<NaiveDate>);
    let filter = RwSignal::new(String::new());

    // `None` shows the period around today as the server's clock and time zone see it.
    let data = Resource::new(
        move || (anchor.get(), span.get()),
        move |(anchor, span)| async move { load_calendar(anchor, span, None, team).await },
    );

    view! {
        <div class="calendar" class:team=team>
            <Transition fallback=|| view! { <p class="muted">"加载中……"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(error) => {
                            view! { <p class="alert error" role="alert">{describe_error(&error)}</p> }.into_any()
                        }
                        Ok(data) => {
                            view! { <CalendarBody data editor span anchor filter team /> }.into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn CalendarBody(
    data: CalendarData,
    editor: Editor,
    span: RwSignal<Span>,
    anchor: RwSignal<Option<NaiveDate>>,
    filter: RwSignal<String>,
    team: bool,
) -> impl IntoView {
    let shown = data.anchor;
    editor.index.set_value(
        data.entries
            .iter()
            .map(|entry| ((entry.user_id, entry.date), entry.clone()))
            .collect(),
    );
    let data = StoredValue::new(data);
    let members = Memo::new(move |_| {
        let needle = filter.get().trim().to_lowercase();
        data.with_value(|data| {
            data.members
                .iter()
                .filter(|member| {
                    needle.is_empty()
                        || member.username.to_lowercase().contains(&needle)
                        || member.display_name.to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let range = data.with_value(|data| (data.from, data.to));
    let today = data.with_value(|data| data.today);
    let current_span = span.get_untracked();
    let go = move |direction: i32| {
        editor.clear_selection();
        anchor.set(Some(step(shown, current_span, direction)));
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let rows = members.with_untracked(Vec::len);
        let key = ev.key();
        if matches!(key.as_str(), "Delete" | "Backspace") && editor.focus.get_untracked().is_some()
        {
            ev.prevent_default();
            data.with_value(|data| editor.assign(data, &members.get_untracked(), None));
            return;
        }
        // In the picker, 1–9 choose the n-th shift as listed.
        if editor.picker.get_untracked()
            && let Some(index) = key.parse::<usize>().ok().filter(|n| (1..=9).contains(n))
        {
            ev.prevent_default();
            data.with_value(|data| {
                let choice = data
                    .shifts
                    .iter()
                    .filter(|shift| shift.active)
                    .nth(index - 1);
                if let Some(shift) = choice {
                    editor.assign(data, &members.get_untracked(), Some(shift));
                }
            });
            return;
        }
        if editor.keyboard(&key, ev.shift_key(), team, rows, range) {
            ev.prevent_default();
        }
    };
    let missing_years = data.with_value(|data| data.years_without_data.clone());

    view! {
        <div class="calendar-toolbar">
            <div class="calendar-nav">
                <button type="button" class="button ghost" aria-label="上一页" on:click=move |_| go(-1)>"‹"</button>
                <button type="button" class="button ghost" on:click=move |_| {
                    editor.clear_selection();
                    anchor.set(Some(today));
                }>"今天"</button>
                <button type="button" class="button ghost" aria-label="下一页" on:click=move |_| go(1)>"›"</button>
                <h2 class="calendar-title" data-testid="calendar-title">{title(shown, if team { Span::Month } else { current_span })}</h2>
            </div>
            {if team {
                view! {
                    <input
                        type="search"
                        class="calendar-filter"
                        placeholder="按姓名或用户名筛选"
                        aria-label="筛选成员"
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))
                    />
                }.into_any()
            } else {
                view! {
                    <div class="segmented" role="group" aria-label="视图">
                        <button type="button" aria-pressed=move || (span.get() == Span::Month).to_string()
                            on:click=move |_| { editor.clear_selection(); anchor.set(Some(shown)); span.set(Span::Month); }>"月"</button>
                        <button type="button" aria-pressed=move || (span.get() == Span::Week).to_string()
                            on:click=move |_| { editor.clear_selection(); anchor.set(Some(shown)); span.set(Span::Week); }>"周"</button>
                    </div>
                }.into_any()
            }}
        </div>
        {(!missing_years.is_empty()).then(|| {
            let years = missing_years.iter().map(|year| format!("{year} 年")).collect::<Vec<_>>().join("、");
            view! {
                <p class="alert warn" data-testid="no-holiday-data">
                    {format!("{years}暂无法定节假日数据，按周一至周五为工作日计算。")}
                    <a href="/holidays">"导入节假日"</a>
                </p>
            }
        })}
        {move || editor.message.get().map(|(error, text)| {
            view! {
                <p class=if error { "alert error" } else { "alert ok" } role=if error { "alert" } else { "status" } data-testid="calendar-message">{text}</p>
            }
        })}
        <div
            class="calendar-surface"
            tabindex="0"
            aria-label="排班日历：方向键移动，Shift+方向键选择范围，回车选择班次，Delete 清除，Esc 取消"
            on:keydown=on_keydown
            on:mouseup=move |_| editor.release()
            on:mouseleave=move |_| editor.release()
        >
            {if team {
                view! { <TeamGrid data editor members /> }.into_any()
            } else {
                view! { <MonthGrid data editor shown span=current_span /> }.into_any()
            }}
        </div>
        <ShiftPicker data editor members />
    }
}

/// State classes of a date (today, working or off, holiday or make-up day, weekend).
fn day_classes(data: &CalendarData, date: NaiveDate) -> String {
    let mut classes = Vec::new();
    if date == data.today {
        classes.push("today");
    }
    if let Some(day) = data.days.iter().find(|day| day.date == date) {
        classes.push(if day.working { "working" } else { "off" });
        if let Some((_, off)) = &day.marker {
            classes.push(if *off { "holiday" } else { "makeup" });
        }
    }
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        classes.push("weekend");
    }
    classes.join(" ")
}

fn marker_view(data: &CalendarData, date: NaiveDate) -> Option<impl IntoView + use<>> {
    let (name, off) = data
        .days
        .iter()
        .find(|day| day.date == date)?
        .marker
        .clone()?;
    let title = name.clone();
    Some(view! {
        <span class="marker" class:off=off title=title>
            <b>{if off { "休" } else { "班" }}</b>
            <span class="marker-name">{name}</span>
        </span>
    })
}

/// The cell's content: the shift chip, or nothing.
fn cell_content(
    data: &CalendarData,
    editor: Editor,
    user_id: i32,
    date: NaiveDate,
    compact: bool,
) -> impl IntoView + use<> {
    let entry = editor.entry(user_id, date);
    let shift = entry.as_ref().and_then(|entry| {
        data.shifts
            .iter()
            .find(|shift| shift.id == entry.shift_id)
            .cloned()
    });
    let note = entry.and_then(|entry| entry.note);
    let requests: Vec<_> = data
        .notes
        .iter()
        .filter(|mark| mark.user_id == user_id && mark.date == date)
        .map(|mark| {
            let title = format!("申请 #{}：{}", mark.request_id, mark.label);
            view! {
                <a class="request-mark" class:pending=mark.pending href="/requests" title=title data-testid="request-mark">
                    {mark.label.clone()}
                </a>
            }
        })
        .collect();
    view! {
        {shift.map(|shift| view! { <ShiftChip shift compact /> })}
        {requests}
        {(!compact).then(|| note.map(|note| view! { <span class="day-note" title=note.clone()>{note.clone()}</span> }))}
    }
}

#[component]
fn MonthGrid(
    data: StoredValue<CalendarData>,
    editor: Editor,
    shown: NaiveDate,
    span: Span,
) -> impl IntoView {
    let user_id = data.with_value(|data| data.members.first().map_or(0, |member| member.id));
    let dates: Vec<NaiveDate> =
        data.with_value(|data| data.days.iter().map(|day| day.date).collect());
    // The period starts on a Monday, so its first week names the columns.
    let header: Vec<&str> = dates
        .iter()
        .take(7)
        .map(|date| weekday_name(*date))
        .collect();
    view! {
        <div class="month-grid" class:week=span == Span::Week role="grid">
            <div class="week-row head" role="row">
                {header.into_iter().map(|name| view! { <div class="weekday" role="columnheader">{format!("周{name}")}</div> }).collect_view()}
            </div>
            // A grid's cells sit in rows; `.week-row` is `display: contents`, so the cells
            // still lay out on the month's 7-column grid.
            {dates.chunks(7).map(|week| {
                let all_outside = span == Span::Month && week.iter().all(|date| date.month() != shown.month());
                view! { <div class="week-row" class:outside=all_outside role="row">{week.iter().copied().map(|date| {
                let outside = span == Span::Month && date.month() != shown.month();
                let classes = format!("day {}", data.with_value(|data| day_classes(data, date)));
                let cell = (0usize, date);
                view! {
                    <div
                        class=classes
                        class:outside=outside
                        class:selected=move || editor.is_selected(cell)
                        class:cursor=move || editor.focus.get() == Some(cell)
                        role="gridcell"
                        data-date=date.to_string()
                        on:mousedown=move |ev: leptos::ev::MouseEvent| editor.press(cell, ev.shift_key())
                        on:mouseenter=move |_| editor.enter(cell)
                    >
                        <div class="day-head">
                            <span class="day-number">{date.day()}</span>
                            <span class="day-weekday">{format!("周{}", weekday_name(date))}</span>
                            {data.with_value(|data| marker_view(data, date))}
                            {(!outside && date >= data.with_value(|data| data.today)).then(|| view! {
                                <a
                                    class="day-request"
                                    href=format!("/requests?date={date}")
                                    title="为这一天提交请假、换班或代班申请"
                                    data-testid="day-request"
                                    on:mousedown=|ev: leptos::ev::MouseEvent| ev.stop_propagation()
                                >"申请"</a>
                            })}
                        </div>
                        <div class="day-body">
                            {move || data.with_value(|data| cell_content(data, editor, user_id, date, false))}
                        </div>
                    </div>
                }
            }).collect_view()}</div> }}).collect_view()}
        </div>
    }
}

/// People in the team grid's server-rendered HTML. A 200-person month is 6,200 cells, which
/// made a 1.75 MB page; the browser renders the rest right after hydration.
const SERVER_RENDERED_ROWS: usize = 40;

#[component]
fn TeamGrid(
    data: StoredValue<CalendarData>,
    editor: Editor,
    members: Memo<Vec<TeamMember>>,
) -> impl IntoView {
    let dates: Vec<NaiveDate> =
        data.with_value(|data| data.days.iter().map(|day| day.date).collect());
    let header_dates = dates.clone();
    let rows_limit = crate::ui::rows_until_hydrated(SERVER_RENDERED_ROWS);
    view! {
        <div class="team-scroll">
            <table class="team-grid" role="grid">
                <thead>
                    <tr>
                        <th class="member-col" scope="col">"成员"</th>
                        {header_dates.into_iter().map(|date| {
                            let classes = data.with_value(|data| day_classes(data, date));
                            let marker = data.with_value(|data| {
                                data.days.iter().find(|day| day.date == date).and_then(|day| day.marker.clone())
                            });
                            let title = marker.as_ref().map(|(name, _)| name.clone());
                            view! {
                                <th scope="col" class=classes title=title>
                                    <span class="day-number">{date.day()}</span>
                                    <span class="day-weekday">{weekday_name(date)}</span>
                                    {marker.map(|(_, off)| view! { <b class="marker-dot" class:off=off>{if off { "休" } else { "班" }}</b> })}
                                </th>
                            }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let dates = dates.clone();
                        members.get().into_iter().enumerate().take(rows_limit.get()).map(|(row, member)| {
                            let dates = dates.clone();
                            view! {
                                <tr data-user=member.username.clone()>
                                    <th scope="row" class="member-col">
                                        <span class="member-name">{member.display_name.clone()}</span>
                                        <span class="muted member-username">{member.username.clone()}</span>
                                    </th>
                                    {dates.into_iter().map(|date| {
                                        let cell = (row, date);
                                        let user_id = member.id;
                                        let classes = data.with_value(|data| day_classes(data, date));
                                        view! {
                                            <td
                                                class=classes
                                                class:selected=move || editor.is_selected(cell)
                                                class:cursor=move || editor.focus.get() == Some(cell)
                                                role="gridcell"
                                                data-date=date.to_string()
                                                on:mousedown=move |ev: leptos::ev::MouseEvent| editor.press(cell, ev.shift_key())
                                                on:mouseenter=move |_| editor.enter(cell)
                                            >
                                                {move || data.with_value(|data| cell_content(data, editor, user_id, date, true))}
                                            </td>
                                        }
                                    }).collect_view()}
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            {move || {
                let hidden = members.with(Vec::len).saturating_sub(rows_limit.get());
                (hidden > 0).then(|| view! { <p class="muted">{format!("正在显示其余 {hidden} 人……")}</p> })
            }}
        </div>
    }
}

/// The popover listing active shifts for the selection, plus 清除.
#[component]
fn ShiftPicker(
    data: StoredValue<CalendarData>,
    editor: Editor,
    members: Memo<Vec<TeamMember>>,
) -> impl IntoView {
    let choices: Vec<ShiftView> = data.with_value(|data| {
        data.shifts
            .iter()
            .filter(|shift| shift.active)
            .cloned()
            .collect()
    });
    move || {
        if !editor.picker.get() {
            return ().into_any();
        }
        let count = editor.selected(members.with(Vec::len)).len();
        if count == 0 {
            return ().into_any();
        }
        let heading = match (editor.anchor.get(), editor.focus.get()) {
            (Some(a), Some(b)) if count > 1 => {
                format!("已选 {count} 天：{} – {}", a.1.min(b.1), a.1.max(b.1))
            }
            (_, Some(b)) => format!("{} 选择班次", b.1),
            _ => String::new(),
        };
        view! {
            <div class="picker" role="dialog" aria-label="选择班次" data-testid="shift-picker">
                <p class="picker-title">{heading}</p>
                <div class="picker-choices">
                    {choices.iter().cloned().enumerate().map(|(index, shift)| {
                        let chosen = shift.clone();
                        view! {
                            <button
                                type="button"
                                class="picker-choice"
                                data-shift=shift.name.clone()
                                title=format!("快捷键 {}", index + 1)
                                on:click=move |_| data.with_value(|data| editor.assign(data, &members.get_untracked(), Some(&chosen)))
                            >
                                <ShiftChip shift=shift.clone() />
                            </button>
                        }
                    }).collect_view()}
                </div>
                <div class="picker-actions">
                    <button type="button" class="button danger ghost" data-testid="clear-shift"
                        on:click=move |_| data.with_value(|data| editor.assign(data, &members.get_untracked(), None))>"清除"</button>
                    <button type="button" class="button ghost" on:click=move |_| editor.clear_selection()>"取消"</button>
                </div>
            </div>
        }
        .into_any()
    }
}
