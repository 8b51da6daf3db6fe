//! The tabular formats (CSV, XLSX): header recognition, one row into a `FileLine`, and the
//! date formats people type in China.

use chrono::{Days, NaiveDate};

use super::{FileError, FileLine, LineError, MAX_ROWS, ParsedFile, shown};

/// Collects the rows of a CSV or XLSX table: the first non-blank row is the header, blank
/// rows are skipped, every other row becomes a line or a line error.
pub(super) struct Table {
    header: Option<Header>,
    parsed: ParsedFile,
    rows: usize,
    is_1904: bool,
}

impl Table {
    pub(super) fn new(is_1904: bool) -> Self {
        Self {
            header: None,
            parsed: ParsedFile::default(),
            rows: 0,
            is_1904,
        }
    }

    /// One row of `(column index, cell)`; fails for a bad header or too many rows.
    pub(super) fn push(&mut self, line: usize, cells: Vec<(usize, Cell)>) -> Result<(), FileError> {
        let Some(header) = &self.header else {
            if cells.iter().all(|(_, cell)| cell.is_blank()) {
                return Ok(());
            }
            let names: Vec<(usize, String)> = cells
                .into_iter()
                .map(|(index, cell)| (index, cell.into_text()))
                .collect();
            self.header = Some(Header::parse(&names)?);
            return Ok(());
        };
        let Some(row) = header.row(line, cells, self.is_1904) else {
            return Ok(());
        };
        self.rows += 1;
        if self.rows > MAX_ROWS {
            return Err(FileError::too_many_rows());
        }
        match row {
            Ok(line) => self.parsed.lines.push(line),
            Err(error) => self.parsed.errors.push(error),
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<ParsedFile, FileError> {
        if self.header.is_none() {
            return Err(FileError::new("文件是空的"));
        }
        if self.rows == 0 {
            return Err(FileError::new("文件只有表头，没有排班数据"));
        }
        Ok(self.parsed)
    }
}

/// A cell as the file stores it. CSV only has text; XLSX also has numbers and dates.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    fn is_blank(&self) -> bool {
        matches!(self, Self::Text(text) if text.trim().is_empty())
    }

    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text.trim().to_owned(),
            Self::Number(number) => format_number(number),
            Self::Date(date) => date.to_string(),
        }
    }
}

/// Integral numbers as integers: an account typed as `1001` is stored by Excel as 1001.0.
fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Date,
    Username,
    Shift,
    Note,
}

/// Accepted header names, compared trimmed and case-insensitively. The first name of each
/// is the one `write_csv` uses and error messages show.
const COLUMNS: &[(Column, &str, &[&str])] = &[
    (Column::Date, "日期（date）", &["date", "日期", "排班日期"]),
    (
        Column::Username,
        "用户名（username）",
        &[
            "username",
            "user",
            "user_name",
            "user name",
            "用户名",
            "用户",
            "账号",
            "帐号",
            "账户",
            "登录名",
        ],
    ),
    (
        Column::Shift,
        "班次（shift）",
        &["shift", "shift_name", "班次", "班次名称", "班别"],
    ),
    (
        Column::Note,
        "备注（note）",
        &[
            "note", "notes", "remark", "remarks", "comment", "备注", "说明",
        ],
    ),
];

const EXPECTED_HEADER: &str =
    "第一行应为表头：日期、用户名、班次，可选备注（或 date、username、shift、note）";

fn column_named(name: &str) -> Option<Column> {
    COLUMNS
        .iter()
        .find(|(_, _, aliases)| aliases.contains(&name))
        .map(|(column, _, _)| *column)
}

fn label(column: Column) -> &'static str {
    COLUMNS
        .iter()
        .find(|(candidate, _, _)| *candidate == column)
        .map(|(_, label, _)| *label)
        .unwrap_or("")
}

/// Which column index holds which field.
#[derive(Debug)]
pub(super) struct Header {
    by_index: Vec<Option<Column>>,
}

impl Header {
    /// Recognises the header row; `cells` are `(column index, text)`. Blank header cells
    /// are allowed (Excel leaves trailing separators) as long as their column stays empty.
    pub(super) fn parse(cells: &[(usize, String)]) -> Result<Self, FileError> {
        let mut by_index: Vec<Option<Column>> = Vec::new();
        let mut unknown = Vec::new();
        let mut recognised = 0;
        for (index, raw) in cells {
            let name = raw
                .trim()
                .trim_start_matches('\u{FEFF}')
                .trim()
                .to_lowercase();
            if name.is_empty() {
                continue;
            }
            match column_named(&name) {
                Some(column) => {
                    if by_index.contains(&Some(column)) {
                        return Err(FileError::new(format!(
                            "表头中 {} 列出现了不止一次",
                            label(column)
                        )));
                    }
                    if by_index.len() <= *index {
                        by_index.resize(index + 1, None);
                    }
                    by_index[*index] = Some(column);
                    recognised += 1;
                }
                None => unknown.push(shown(raw.trim())),
            }
        }
        if recognised == 0 {
            let first: Vec<&str> = cells.iter().map(|(_, text)| text.trim()).collect();
            return Err(FileError::new(format!(
                "不是排班表：{EXPECTED_HEADER}；这个文件的第一行是 {}",
                shown(&first.join(","))
            )));
        }
        if !unknown.is_empty() {
            return Err(FileError::new(format!(
                "无法识别的列：{}（可用的列：date/日期、username/用户名、shift/班次、note/备注）",
                unknown.join("、")
            )));
        }
        let missing: Vec<&str> = [Column::Date, Column::Username, Column::Shift]
            .into_iter()
            .filter(|column| !by_index.contains(&Some(*column)))
            .map(label)
            .collect();
        if !missing.is_empty() {
            return Err(FileError::new(format!(
                "缺少必需的列：{}",
                missing.join("、")
            )));
        }
        Ok(Self { by_index })
    }

    /// One data row; `None` when it is blank (skipped silently, like an empty line).
    /// `is_1904`: the workbook counts serial dates from 1904 (old Mac Excel).
    pub(super) fn row(
        &self,
        line: usize,
        cells: Vec<(usize, Cell)>,
        is_1904: bool,
    ) -> Option<Result<FileLine, LineError>> {
        let (mut date, mut username, mut shift, mut note) = (None, None, None, None);
        let mut stray = None;
        let mut any = false;
        for (index, cell) in cells {
            if cell.is_blank() {
                continue;
            }
            any = true;
            match self.by_index.get(index).copied().flatten() {
                Some(Column::Date) => date = Some(cell),
                Some(Column::Username) => username = Some(cell.into_text()),
                Some(Column::Shift) => shift = Some(cell.into_text()),
                Some(Column::Note) => note = Some(cell.into_text()),
                None => {
                    if stray.is_none() {
                        stray = Some((index, cell.into_text()));
                    }
                }
            }
        }
        if !any {
            return None;
        }
        let mut problems = Vec::new();
        if let Some((index, text)) = stray {
            problems.push(format!(
                "第 {} 列没有列名，却有内容 {}",
                index + 1,
                shown(&text)
            ));
        }
        let date = match date.map(|cell| cell_date(cell, is_1904)) {
            None => {
                problems.push("日期为空".to_owned());
                None
            }
            Some(Err(message)) => {
                problems.push(message);
                None
            }
            Some(Ok(date)) => Some(date),
        };
        if username.is_none() {
            problems.push("用户名为空".to_owned());
        }
        if shift.is_none() {
            problems.push("班次为空".to_owned());
        }
        Some(match (date, username, shift) {
            (Some(date), Some(username), Some(shift)) if problems.is_empty() => Ok(FileLine {
                line,
                date,
                username: Some(username),
                shift,
                note,
            }),
            _ => Err(LineError::new(line, problems.join("；"))),
        })
    }
}

fn cell_date(cell: Cell, is_1904: bool) -> Result<NaiveDate, String> {
    match cell {
        Cell::Date(date) => Ok(date),
        Cell::Text(text) => parse_date(&text),
        Cell::Number(number) => number_date(number, is_1904),
    }
}

/// A number in the date column: `20260105` typed without separators, or an Excel serial
/// date whose cell lost its date format.
fn number_date(number: f64, is_1904: bool) -> Result<NaiveDate, String> {
    let unrecognised = || unrecognised_date(&format_number(number));
    if !number.is_finite() || number < 0.0 {
        return Err(unrecognised());
    }
    let whole = number.floor() as i64;
    if (10_000_101..=99_991_231).contains(&whole) && number.fract() == 0.0 {
        return parse_date(&whole.to_string());
    }
    // 1900 system: day 1 is 1900-01-01 and Excel counts a 29 February 1900 that never was,
    // so from day 61 (1900-03-01) on the epoch is 1899-12-30. Earlier days are no schedule.
    let (epoch, first) = if is_1904 {
        (NaiveDate::from_ymd_opt(1904, 1, 1), 0)
    } else {
        (NaiveDate::from_ymd_opt(1899, 12, 30), 61)
    };
    if (first..=2_958_465).contains(&whole) {
        let days = u64::try_from(whole).unwrap_or(0);
        if let Some(date) = epoch.and_then(|epoch| epoch.checked_add_days(Days::new(days))) {
            return Ok(date);
        }
    }
    Err(unrecognised())
}

fn unrecognised_date(text: &str) -> String {
    format!(
        "无法识别的日期 {}（应为 2026-01-05、2026/1/5、2026.1.5 或 2026年1月5日）",
        shown(text)
    )
}

/// Dates as typed in China: `2026-01-05`, `2026-1-5`, `2026/1/5`, `2026.1.5`,
/// `2026年1月5日`, `20260105`; full-width digits and separators too, and a trailing time
/// (`2026-01-05 00:00:00`, `2026-01-05T00:00`) is ignored. An impossible day is reported as
/// such, not as unreadable.
pub(super) fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("日期为空".to_owned());
    }
    let normal: String = text.chars().filter_map(narrow).collect();
    let date_part = strip_time(&normal);
    let parts = split_date(date_part).ok_or_else(|| unrecognised_date(text))?;
    let (year, month, day) = parts;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("日期 {year:04}-{month:02}-{day:02} 不存在"))
}

/// Full-width digits and separators (typed with a Chinese IME) as ASCII; spaces inside a
/// `年月日` date dropped later.
fn narrow(c: char) -> Option<char> {
    Some(match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32)?,
        '－' => '-',
        '／' => '/',
        '．' => '.',
        '：' => ':',
        '\u{3000}' => ' ',
        _ => c,
    })
}

fn strip_time(text: &str) -> &str {
    let split = text.char_indices().find(|(index, c)| {
        *c == ' '
            || (*c == 'T'
                && text[index + 1..]
                    .chars()
                    .next()
                    .is_some_and(|next| next.is_ascii_digit()))
    });
    let Some((index, _)) = split else {
        return text;
    };
    let time = text[index + 1..].trim();
    let is_time = time.contains(':')
        && time
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.'));
    if is_time { &text[..index] } else { text }
}

fn split_date(text: &str) -> Option<(i32, u32, u32)> {
    let compact: String;
    let (year, month, day) = if text.contains('年') {
        compact = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (year, rest) = compact.split_once('年')?;
        let (month, rest) = rest.split_once('月')?;
        let day = rest
            .strip_suffix('日')
            .or_else(|| rest.strip_suffix('号'))
            .unwrap_or(rest);
        (year, month, day)
    } else if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        (&text[..4], &text[4..6], &text[6..])
    } else {
        let separator = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
        let mut parts = text.split(separator);
        let parts = (parts.next()?, parts.next()?, parts.next()?, parts.next());
        match parts {
            (year, month, day, None) => (year, month, day),
            _ => return None,
        }
    };
    let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        (lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let year = i32::try_from(digits(year, 4..=4)?).ok()?;
    Some((year, digits(month, 1..=2)?, digits(day, 1..=2)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn header(names: &[&str]) -> Result<Header, FileError> {
        let cells: Vec<(usize, String)> = names
            .iter()
            .enumerate()
            .map(|(index, name)| (index, (*name).to_owned()))
            .collect();
        Header::parse(&cells)
    }

    fn texts(values: &[&str]) -> Vec<(usize, Cell)> {
        values
            .iter()
            .enumerate()
            .map(|(index, value)| (index, Cell::Text((*value).to_owned())))
            .collect()
    }

    #[test]
    fn dates_are_accepted_in_the_usual_chinese_formats() {
        for text in [
            "2026-01-05",
            "2026-1-5",
            "2026/1/5",
            "2026/01/05",
            "2026.1.5",
            "2026年1月5日",
            "2026 年 1 月 5 日",
            "2026年01月05日",
            "2026年1月5号",
            "20260105",
            " 2026-01-05 ",
            "２０２６－０１－０５",
            "2026-01-05 00:00:00",
            "2026/1/5 0:00",
            "2026-01-05T00:00:00",
        ] {
            assert_eq!(parse_date(text), Ok(date(2026, 1, 5)), "{text}");
        }
    }

    #[test]
    fn impossible_dates_are_named_as_such() {
        assert_eq!(
            parse_date("2026-02-30").unwrap_err(),
            "日期 2026-02-30 不存在"
        );
        assert_eq!(
            parse_date("2026/2/29").unwrap_err(),
            "日期 2026-02-29 不存在"
        );
        assert_eq!(
            parse_date("2026年13月1日").unwrap_err(),
            "日期 2026-13-01 不存在"
        );
        assert_eq!(
            parse_date("2026-04-31").unwrap_err(),
            "日期 2026-04-31 不存在"
        );
        assert_eq!(parse_date("2028-02-29"), Ok(date(2028, 2, 29)));
    }

    #[test]
    fn unreadable_dates_quote_the_text() {
        for text in [
            "1/5/2026",
            "26-1-5",
            "2026-1",
            "2026-1-5-1",
            "明天",
            "2026-01-05 早上",
            "2026-001-05",
            "2026-1-5x",
            "2026年1月",
        ] {
            let message = parse_date(text).unwrap_err();
            assert!(
                message.starts_with(&format!("无法识别的日期 {}（", text.trim())),
                "{text}: {message}"
            );
        }
        assert_eq!(parse_date("  ").unwrap_err(), "日期为空");
    }

    #[test]
    fn numbers_in_the_date_column_are_serial_dates_or_digits() {
        assert_eq!(number_date(46027.0, false), Ok(date(2026, 1, 5)));
        assert_eq!(number_date(46027.75, false), Ok(date(2026, 1, 5)));
        assert_eq!(number_date(44565.0, true), Ok(date(2026, 1, 5)));
        assert_eq!(number_date(20260105.0, false), Ok(date(2026, 1, 5)));
        assert_eq!(
            number_date(20260230.0, false).unwrap_err(),
            "日期 2026-02-30 不存在"
        );
        assert!(
            number_date(5.0, false)
                .unwrap_err()
                .starts_with("无法识别的日期 5（")
        );
        assert!(number_date(-1.0, false).is_err());
        assert!(number_date(f64::NAN, false).is_err());
    }

    #[test]
    fn headers_are_recognised_in_chinese_and_english_in_any_order() {
        for names in [
            &["date", "username", "shift", "note"][..],
            &["日期", "用户名", "班次", "备注"],
            &["\u{FEFF}Date", " USER ", "Shift"],
            &["班次", "账号", "日期"],
            &["用户", "日期", "", "班次", ""],
        ] {
            assert!(header(names).is_ok(), "{names:?}");
        }
    }

    #[test]
    fn header_problems_name_the_column() {
        assert_eq!(
            header(&["date", "username"]).unwrap_err().message,
            "缺少必需的列：班次（shift）"
        );
        assert_eq!(
            header(&["备注", "班次"]).unwrap_err().message,
            "缺少必需的列：日期（date）、用户名（username）"
        );
        assert_eq!(
            header(&["date", "username", "shift", "部门"])
                .unwrap_err()
                .message,
            "无法识别的列：部门（可用的列：date/日期、username/用户名、shift/班次、note/备注）"
        );
        assert_eq!(
            header(&["date", "日期", "user", "shift"])
                .unwrap_err()
                .message,
            "表头中 日期（date） 列出现了不止一次"
        );
        assert!(
            header(&["hello world"])
                .unwrap_err()
                .message
                .starts_with("不是排班表：第一行应为表头")
        );
    }

    #[test]
    fn rows_become_lines_with_trimmed_values() {
        let header = header(&["班次", "日期", "用户名", "备注"]).unwrap();
        let line = header
            .row(2, texts(&[" A班 ", "2026/1/5", " zhangsan ", " "]), false)
            .unwrap()
            .unwrap();
        assert_eq!(
            line,
            FileLine {
                line: 2,
                date: date(2026, 1, 5),
                username: Some("zhangsan".to_owned()),
                shift: "A班".to_owned(),
                note: None,
            }
        );
        assert!(header.row(3, texts(&["", " ", ""]), false).is_none());
        let numeric = vec![
            (0, Cell::Text("早".to_owned())),
            (1, Cell::Number(46027.0)),
            (2, Cell::Number(1001.0)),
        ];
        let line = header.row(4, numeric, false).unwrap().unwrap();
        assert_eq!(line.username.as_deref(), Some("1001"));
        assert_eq!(line.date, date(2026, 1, 5));
    }

    #[test]
    fn row_problems_are_all_reported_together() {
        let header = header(&["date", "username", "shift", ""]).unwrap();
        let error = header
            .row(7, texts(&["2026-02-30", "", "", "多余"]), false)
            .unwrap()
            .unwrap_err();
        assert_eq!(error.line, 7);
        assert_eq!(
            error.message,
            "第 4 列没有列名，却有内容 多余；日期 2026-02-30 不存在；用户名为空；班次为空"
        );
        let error = header
            .row(8, texts(&["", "lisi", "A"]), false)
            .unwrap()
            .unwrap_err();
        assert_eq!(error.message, "日期为空");
        let error = header
            .row(9, texts(&["2026-01-05", "lisi", "A", "", "x"]), false)
            .unwrap()
            .unwrap_err();
        assert_eq!(error.message, "第 5 列没有列名，却有内容 x");
    }
}
