//! From parsed lines to an import preview: who, which shift, and what would change. The
//! caller supplies the lookups (backed by one query each), so this stays pure and is
//! linear in the number of rows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{NOTE_MAX_CHARS, ParsedFile, shown};

/// What a shift name or short label in the file refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShiftMatch {
    Found(i32),
    /// The text is one shift's name and another's label (or the label of several).
    Ambiguous,
    NotFound,
    /// The shift exists but is archived: kept for history, not for new schedules.
    Archived,
}

/// Look-ups the caller provides.
pub struct Lookup<'a> {
    /// User id by username; the caller matches case-insensitively.
    pub user_by_name: &'a dyn Fn(&str) -> Option<i32>,
    pub shift_by_name_or_label: &'a dyn Fn(&str) -> ShiftMatch,
    /// The shift currently assigned to (user id, date), if any.
    pub existing: &'a dyn Fn(i32, NaiveDate) -> Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowStatus {
    /// No shift on that day yet.
    New,
    /// The same shift is already assigned; importing changes nothing.
    Unchanged,
    /// Another shift is assigned and would be replaced.
    Change { previous: i32 },
    /// The row cannot be imported; `message` is zh-CN and lists every problem of the row.
    Error { message: String },
}

impl RowStatus {
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: usize,
    /// `None` only for rows that could not be read at all.
    pub date: Option<NaiveDate>,
    pub username: String,
    pub shift: String,
    pub note: Option<String>,
    pub user_id: Option<i32>,
    pub shift_id: Option<i32>,
    pub status: RowStatus,
}

/// Resolves every line, in file order. `fixed_user` is the user a data.json file belongs to
/// (its lines have no username); lines that name a user are looked up by that name.
/// Rows that could not be parsed are included as errors, so the preview shows the file whole.
pub fn preview(
    parsed: &ParsedFile,
    fixed_user: Option<(i32, String)>,
    lookup: &Lookup,
) -> Vec<PreviewRow> {
    let mut users: HashMap<&str, Option<i32>> = HashMap::new();
    let mut shifts: HashMap<&str, ShiftMatch> = HashMap::new();
    let mut first_line: HashMap<(i32, NaiveDate), usize> =
        HashMap::with_capacity(parsed.lines.len());
    let mut rows = Vec::with_capacity(parsed.lines.len() + parsed.errors.len());

    for line in &parsed.lines {
        let mut problems = Vec::new();
        let (username, user_id) = match (&line.username, &fixed_user) {
            (Some(name), _) => {
                let id = *users
                    .entry(name.as_str())
                    .or_insert_with(|| (lookup.user_by_name)(name));
                if id.is_none() {
                    problems.push(format!("用户 {} 不存在", shown(name)));
                }
                (name.clone(), id)
            }
            (None, Some((id, name))) => (name.clone(), Some(*id)),
            (None, None) => {
                problems.push("没有指定用户".to_owned());
                (String::new(), None)
            }
        };

        let shift_match = *shifts
            .entry(line.shift.as_str())
            .or_insert_with(|| (lookup.shift_by_name_or_label)(&line.shift));
        let shift = shown(&line.shift);
        let shift_id = match shift_match {
            ShiftMatch::Found(id) => Some(id),
            ShiftMatch::NotFound => {
                problems.push(format!("班次 {shift} 不存在"));
                None
            }
            ShiftMatch::Ambiguous => {
                problems.push(format!(
                    "班次 {shift} 同时是多个班次的名称或简称，请写班次的完整名称"
                ));
                None
            }
            ShiftMatch::Archived => {
                problems.push(format!("班次 {shift} 已归档，不能再用于排班"));
                None
            }
        };

        if let Some(note) = &line.note {
            let length = note.chars().count();
            if length > NOTE_MAX_CHARS {
                problems.push(format!(
                    "备注最多 {NOTE_MAX_CHARS} 个字符（当前 {length} 个）"
                ));
            }
        }

        // Registered even when the row has other problems: two rows for one day are a
        // mistake in the file whichever of them is fixed first.
        if let Some(id) = user_id {
            match first_line.entry((id, line.date)) {
                Entry::Occupied(first) => problems.push(format!(
                    "与第 {} 行重复（同一用户同一天只能有一个班次）",
                    first.get()
                )),
                Entry::Vacant(slot) => {
                    slot.insert(line.line);
                }
            }
        }

        let status = match (user_id, shift_id) {
            (Some(user), Some(shift)) if problems.is_empty() => {
                match (lookup.existing)(user, line.date) {
                    None => RowStatus::New,
                    Some(previous) if previous == shift => RowStatus::Unchanged,
                    Some(previous) => RowStatus::Change { previous },
                }
            }
            _ => RowStatus::Error {
                message: problems.join("；"),
            },
        };
        rows.push(PreviewRow {
            line: line.line,
            date: Some(line.date),
            username,
            shift: line.shift.clone(),
            note: line.note.clone(),
            user_id,
            shift_id,
            status,
        });
    }

    rows.extend(parsed.errors.iter().map(|error| PreviewRow {
        line: error.line,
        date: None,
        username: String::new(),
        shift: String::new(),
        note: None,
        user_id: None,
        shift_id: None,
        status: RowStatus::Error {
            message: error.message.clone(),
        },
    }));
    rows.sort_by_key(|row| row.line);
    rows
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_file;
    use super::super::{FileFormat, FileLine, LineError};
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn user_by_name(name: &str) -> Option<i32> {
        match name.to_lowercase().as_str() {
            "zhangsan" => Some(1),
            "lisi" => Some(2),
            "张三" => Some(3),
            _ => None,
        }
    }

    fn shift_by_name_or_label(text: &str) -> ShiftMatch {
        match text {
            "A班" | "A" => ShiftMatch::Found(10),
            "夜班" | "夜" => ShiftMatch::Found(11),
            "休" => ShiftMatch::Found(12),
            "早" => ShiftMatch::Ambiguous,
            "旧班" => ShiftMatch::Archived,
            _ => ShiftMatch::NotFound,
        }
    }

    /// zhangsan already works A班 on 5 January and 夜班 on 6 January.
    fn existing(user: i32, day: NaiveDate) -> Option<i32> {
        match (user, day.to_string().as_str()) {
            (1, "2026-01-05") => Some(10),
            (1, "2026-01-06") => Some(11),
            _ => None,
        }
    }

    fn run(parsed: &ParsedFile, fixed_user: Option<(i32, String)>) -> Vec<PreviewRow> {
        let lookup = Lookup {
            user_by_name: &user_by_name,
            shift_by_name_or_label: &shift_by_name_or_label,
            existing: &existing,
        };
        preview(parsed, fixed_user, &lookup)
    }

    fn csv(text: &str) -> ParsedFile {
        parse_file(FileFormat::Csv, text.as_bytes()).unwrap()
    }

    fn statuses(rows: &[PreviewRow]) -> Vec<(usize, RowStatus)> {
        rows.iter()
            .map(|row| (row.line, row.status.clone()))
            .collect()
    }

    fn error(message: &str) -> RowStatus {
        RowStatus::Error {
            message: message.to_owned(),
        }
    }

    #[test]
    fn rows_are_new_unchanged_or_changes() {
        let rows = run(
            &csv(
                "date,username,shift\n2026-01-05,ZhangSan,A\n2026-01-06,zhangsan,A班\n2026-01-07,zhangsan,夜\n",
            ),
            None,
        );
        assert_eq!(
            statuses(&rows),
            vec![
                (2, RowStatus::Unchanged),
                (3, RowStatus::Change { previous: 11 }),
                (4, RowStatus::New),
            ]
        );
        assert_eq!(
            rows[0],
            PreviewRow {
                line: 2,
                date: Some(date(2026, 1, 5)),
                username: "ZhangSan".to_owned(),
                shift: "A".to_owned(),
                note: None,
                user_id: Some(1),
                shift_id: Some(10),
                status: RowStatus::Unchanged,
            }
        );
    }

    #[test]
    fn unknown_users_and_shifts_are_named() {
        let rows = run(
            &csv(
                "date,username,shift\n2026-01-05,wangwu,A\n2026-01-05,lisi,C班\n2026-01-06,nobody,none\n",
            ),
            None,
        );
        assert_eq!(
            statuses(&rows),
            vec![
                (2, error("用户 wangwu 不存在")),
                (3, error("班次 C班 不存在")),
                (4, error("用户 nobody 不存在；班次 none 不存在")),
            ]
        );
        assert_eq!(rows[1].user_id, Some(2));
        assert_eq!(rows[1].shift_id, None);
    }

    #[test]
    fn ambiguous_and_archived_shifts_are_errors() {
        let rows = run(
            &csv("date,username,shift\n2026-01-05,lisi,早\n2026-01-06,lisi,旧班\n"),
            None,
        );
        assert_eq!(
            statuses(&rows),
            vec![
                (
                    2,
                    error("班次 早 同时是多个班次的名称或简称，请写班次的完整名称")
                ),
                (3, error("班次 旧班 已归档，不能再用于排班")),
            ]
        );
    }

    #[test]
    fn second_row_for_the_same_user_and_day_names_the_first() {
        let rows = run(
            &csv(
                "date,username,shift\n2026-01-05,lisi,A\n2026-01-06,lisi,A\n2026/1/5,LISI,夜班\n2026-01-05,zhangsan,A\n",
            ),
            None,
        );
        assert_eq!(
            statuses(&rows),
            vec![
                (2, RowStatus::New),
                (3, RowStatus::New),
                (4, error("与第 2 行重复（同一用户同一天只能有一个班次）")),
                (5, RowStatus::Unchanged),
            ]
        );
    }

    #[test]
    fn long_notes_are_refused() {
        let note = "备".repeat(NOTE_MAX_CHARS);
        let text = format!(
            "date,username,shift,note\n2026-01-07,lisi,A,{note}\n2026-01-08,lisi,A,{note}x\n"
        );
        let rows = run(&csv(&text), None);
        assert_eq!(
            statuses(&rows),
            vec![
                (2, RowStatus::New),
                (3, error("备注最多 200 个字符（当前 201 个）")),
            ]
        );
        assert_eq!(rows[0].note.as_deref(), Some(note.as_str()));
    }

    #[test]
    fn parse_errors_are_rows_in_file_order() {
        let rows = run(
            &csv("date,username,shift\n2026-01-07,lisi,A\n2026-02-30,lisi,A\n2026-01-08,lisi,A\n"),
            None,
        );
        assert_eq!(
            statuses(&rows),
            vec![
                (2, RowStatus::New),
                (3, error("日期 2026-02-30 不存在")),
                (4, RowStatus::New),
            ]
        );
        assert_eq!(rows[1].date, None);
    }

    #[test]
    fn data_json_lines_belong_to_the_fixed_user_and_rest_is_a_shift() {
        let parsed = parse_file(
            FileFormat::DataJson,
            "{\"2026\": {\"1\": {\"5\": \"A班\", \"6\": \"休\", \"7\": \"X\"}}}".as_bytes(),
        )
        .unwrap();
        let rows = run(&parsed, Some((1, "zhangsan".to_owned())));
        assert_eq!(
            statuses(&rows),
            vec![
                (1, RowStatus::Unchanged),
                (1, RowStatus::Change { previous: 11 }),
                (1, error("班次 X 不存在")),
            ]
        );
        assert_eq!(rows[1].shift_id, Some(12));
        assert!(rows.iter().all(|row| row.username == "zhangsan"));
        assert_eq!(statuses(&run(&parsed, None))[0], (1, error("没有指定用户")));
    }

    #[test]
    fn fifty_thousand_rows_parse_and_preview() {
        let mut text = String::from("date,username,shift,note\n");
        let first = date(2030, 1, 1);
        for index in 0..super::super::MAX_ROWS {
            let day = first + chrono::Days::new(u64::try_from(index / 2).unwrap());
            let user = if index % 2 == 0 { "zhangsan" } else { "lisi" };
            text.push_str(&format!("{day},{user},A班,第 {index} 行\n"));
        }
        let parsed = parse_file(FileFormat::Csv, text.as_bytes()).unwrap();
        assert_eq!(parsed.lines.len(), 50_000);
        assert!(parsed.errors.is_empty());
        let rows = run(&parsed, None);
        assert_eq!(rows.len(), 50_000);
        assert_eq!(
            rows.iter()
                .filter(|row| row.status == RowStatus::New)
                .count(),
            50_000
        );
        assert_eq!(rows[49_999].line, 50_001);
    }

    #[test]
    fn status_serialises_with_a_kind_tag() {
        assert_eq!(
            serde_json::to_string(&RowStatus::Change { previous: 3 }).unwrap(),
            r#"{"kind":"change","previous":3}"#
        );
        assert_eq!(
            serde_json::to_string(&RowStatus::New).unwrap(),
            r#"{"kind":"new"}"#
        );
        let line = FileLine {
            line: 1,
            date: date(2026, 1, 5),
            username: None,
            shift: "A".to_owned(),
            note: None,
        };
        let parsed = ParsedFile {
            lines: vec![line],
            errors: vec![LineError::new(1, "x")],
        };
        assert_eq!(run(&parsed, Some((2, "lisi".to_owned()))).len(), 2);
    }
}
