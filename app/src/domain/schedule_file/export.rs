//! Schedule export as a CSV file that Excel opens correctly and `parse` reads back.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One exported schedule entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRow {
    pub date: NaiveDate,
    pub username: String,
    /// The shift's name (not its short label), so the file imports unambiguously.
    pub shift: String,
    pub note: Option<String>,
}

/// First characters that make Excel treat a cell as a formula (CSV injection, OWASP).
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// RFC 4180 CSV: UTF-8 with a BOM (without it Excel on Chinese Windows reads GBK and shows
/// mojibake), CRLF line ends, the English header `parse` recognises, fields quoted when they
/// contain a comma, quote or line break. A value that Excel would run as a formula gets a
/// leading `'`; `parse` removes it again, so the file round-trips.
pub fn write_csv(rows: &[ExportRow]) -> String {
    let mut out = String::with_capacity(32 + rows.len() * 40);
    out.push('\u{FEFF}');
    out.push_str("date,username,shift,note\r\n");
    for row in rows {
        let _ = write!(out, "{}", row.date.format("%Y-%m-%d"));
        for field in [
            row.username.as_str(),
            row.shift.as_str(),
            row.note.as_deref().unwrap_or(""),
        ] {
            out.push(',');
            push_field(&mut out, field);
        }
        out.push_str("\r\n");
    }
    out
}

fn push_field(out: &mut String, value: &str) {
    let value = escape_formula(value);
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&value);
    }
}

/// `=1+1` → `'=1+1`; a value already starting with `'` gets one more so that removing one
/// on import gives it back unchanged.
fn escape_formula(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) || value.starts_with('\'') {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The inverse of `escape_formula` for CSV fields: a `'` followed by a formula character
/// or another `'` is the export's guard. A lone leading `'` before ordinary text is kept.
pub(super) fn unescape_formula(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_file;
    use super::super::{FileFormat, FileLine};
    use super::*;

    fn row(day: u32, username: &str, shift: &str, note: Option<&str>) -> ExportRow {
        ExportRow {
            date: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            username: username.to_owned(),
            shift: shift.to_owned(),
            note: note.map(str::to_owned),
        }
    }

    #[test]
    fn csv_starts_with_bom_and_english_header_and_uses_crlf() {
        let text = write_csv(&[row(5, "张三", "A班", None)]);
        assert_eq!(
            text,
            "\u{FEFF}date,username,shift,note\r\n2026-01-05,张三,A班,\r\n"
        );
        assert_eq!(write_csv(&[]), "\u{FEFF}date,username,shift,note\r\n");
    }

    #[test]
    fn fields_with_commas_quotes_and_newlines_are_quoted() {
        let text = write_csv(&[row(5, "a", "早,晚", Some("说 \"你好\"\r\n第二行"))]);
        assert_eq!(
            text,
            "\u{FEFF}date,username,shift,note\r\n\
             2026-01-05,a,\"早,晚\",\"说 \"\"你好\"\"\r\n第二行\"\r\n"
        );
    }

    #[test]
    fn formula_like_values_are_guarded() {
        let text = write_csv(&[row(5, "-x", "=SUM(A1)", Some("@cmd"))]);
        assert!(
            text.ends_with("2026-01-05,'-x,'=SUM(A1),'@cmd\r\n"),
            "{text}"
        );
        assert_eq!(unescape_formula("'=1"), "=1");
        assert_eq!(unescape_formula("''x"), "'x");
        assert_eq!(unescape_formula("'abc"), "'abc");
        assert_eq!(unescape_formula("abc"), "abc");
    }

    #[test]
    fn written_csv_parses_back_to_the_same_rows() {
        let rows = vec![
            row(1, "zhangsan", "A班", None),
            row(2, "李四", "夜班", Some("带新人, 注意\"交接\"")),
            row(3, "wang.wu", "休", Some("多行\n备注\r\n第三行")),
            row(4, "-dash", "=1+1", Some("'quoted")),
            row(5, "x", "+早", Some("@mention")),
            row(6, "y", "''", Some("'")),
        ];
        let parsed = parse_file(FileFormat::Csv, write_csv(&rows).as_bytes()).unwrap();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let back: Vec<ExportRow> = parsed
            .lines
            .into_iter()
            .map(
                |FileLine {
                     date,
                     username,
                     shift,
                     note,
                     ..
                 }| ExportRow {
                    date,
                    username: username.unwrap(),
                    shift,
                    note,
                },
            )
            .collect();
        // `\r\n` inside a quoted field reads back as written; the CSV reader keeps it.
        assert_eq!(back, rows);
    }
}
