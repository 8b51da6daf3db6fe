//! The original system's `data.json`: `{"2026": {"1": {"5": "A班", "6": "休"}}}`, year →
//! month → day → shift name of one user. It was written by hand as often as by the program,
//! so keys may be zero-padded and objects may end with a trailing comma. A small JSON
//! reader keeps the line of every key, which serde_json's values do not, so each problem
//! points at the line of its day.

use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use super::{
    FileError, FileLine, LineError, MAX_CELL_BYTES, MAX_JSON_VALUES, MAX_ROWS, ParsedFile,
    check_budget, describe_binary, shown,
};

const EXAMPLE: &str = r#"{"2026": {"1": {"5": "A班", "6": "休"}}}"#;
/// Deeper nesting is no data.json; the limit keeps recursion bounded on hostile input.
const MAX_DEPTH: usize = 32;

pub(super) fn parse(bytes: &[u8], stop: &AtomicBool) -> Result<ParsedFile, FileError> {
    check_budget(stop)?;
    if let Some(kind) = describe_binary(bytes) {
        return Err(FileError::new(format!(
            "不是 data.json 文件（看起来是 {kind}）"
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| FileError::new("不是 data.json 文件：应为 UTF-8 编码的 JSON 文本"))?;
    let root = Reader::new(text, stop)
        .document()
        .map_err(|error| match error.kind {
            SyntaxErrorKind::Stopped => FileError::over_budget(),
            SyntaxErrorKind::Syntax => FileError::new(format!(
                "data.json 格式错误（第 {} 行）：{}",
                error.line, error.message
            )),
        })?;
    let Value::Object(years) = root else {
        return Err(FileError::new(format!(
            "data.json 的最外层应为按年、月、日排列的对象，例如 {EXAMPLE}"
        )));
    };

    let mut parsed = ParsedFile::default();
    for year in years {
        let Some(year_number) = key_number(&year.key, 4)
            .filter(|y| (1900..=2200).contains(y))
            .and_then(|y| i32::try_from(y).ok())
        else {
            parsed.errors.push(LineError::new(
                year.line,
                format!("年份 {} 无效", shown(&year.key)),
            ));
            continue;
        };
        let Value::Object(months) = year.value else {
            parsed.errors.push(LineError::new(
                year.line,
                format!("{year_number} 年的内容应为按月排列的对象"),
            ));
            continue;
        };
        for month in months {
            let Some(month_number) = key_number(&month.key, 2).filter(|m| (1..=12).contains(m))
            else {
                parsed.errors.push(LineError::new(
                    month.line,
                    format!("{year_number} 年的月份 {} 无效", shown(&month.key)),
                ));
                continue;
            };
            let Value::Object(days) = month.value else {
                parsed.errors.push(LineError::new(
                    month.line,
                    format!("{year_number} 年 {month_number} 月的内容应为按日排列的对象"),
                ));
                continue;
            };
            for day in days {
                if parsed.lines.len() + parsed.errors.len() >= MAX_ROWS {
                    return Err(FileError::too_many_rows());
                }
                let Some(day_number) = key_number(&day.key, 2).filter(|d| (1..=31).contains(d))
                else {
                    parsed.errors.push(LineError::new(
                        day.line,
                        format!(
                            "{year_number} 年 {month_number} 月的日期 {} 无效",
                            shown(&day.key)
                        ),
                    ));
                    continue;
                };
                let shift = match day.value {
                    // An emptied day: nothing scheduled, nothing to import.
                    Value::Null => continue,
                    Value::String(text) if text.trim().is_empty() => continue,
                    Value::String(text) => text.trim().to_owned(),
                    other => {
                        parsed.errors.push(LineError::new(
                            day.line,
                            format!(
                                "{year_number:04}-{month_number:02}-{day_number:02} 的班次应为文字，却是{}",
                                other.describe()
                            ),
                        ));
                        continue;
                    }
                };
                let Some(date) = NaiveDate::from_ymd_opt(year_number, month_number, day_number)
                else {
                    parsed.errors.push(LineError::new(
                        day.line,
                        format!("日期 {year_number:04}-{month_number:02}-{day_number:02} 不存在"),
                    ));
                    continue;
                };
                parsed.lines.push(FileLine {
                    line: day.line,
                    date,
                    username: None,
                    shift,
                    note: None,
                });
            }
        }
    }
    if parsed.lines.is_empty() && parsed.errors.is_empty() {
        return Err(FileError::new(format!(
            "data.json 中没有任何排班，应为 {EXAMPLE} 这样的内容"
        )));
    }
    Ok(parsed)
}

/// A key of ASCII digits, zero padding tolerated (`"01"`), at most `max_digits` significant.
fn key_number(key: &str, max_digits: usize) -> Option<u32> {
    let key = key.trim();
    let significant = key.trim_start_matches('0');
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) || significant.len() > max_digits
    {
        return None;
    }
    if significant.is_empty() {
        return Some(0);
    }
    significant.parse().ok()
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Object(Vec<Member>),
    Array,
    String(String),
    Number(String),
    Bool(bool),
    Null,
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Self::Object(_) => "对象".to_owned(),
            Self::Array => "数组".to_owned(),
            Self::String(text) => format!("文字 {}", shown(text)),
            Self::Number(number) => format!("数字 {}", shown(number)),
            Self::Bool(value) => format!("布尔值 {value}"),
            Self::Null => "null".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Member {
    key: String,
    /// Line of the key, 1-based.
    line: usize,
    value: Value,
}

#[derive(Debug)]
struct SyntaxError {
    line: usize,
    message: String,
    kind: SyntaxErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyntaxErrorKind {
    Syntax,
    /// The caller's time budget ran out.
    Stopped,
}

/// JSON (RFC 8259) plus trailing commas in objects and arrays.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// Values read so far, bounded by `MAX_JSON_VALUES`: every one becomes an allocation.
    values: usize,
    stop: &'a AtomicBool,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, stop: &'a AtomicBool) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            values: 0,
            stop,
        }
    }

    fn document(mut self) -> Result<Value, SyntaxError> {
        self.skip_space();
        let value = self.value(0)?;
        self.skip_space();
        if self.pos < self.bytes.len() {
            return Err(self.error("JSON 已经结束，后面还有多余的内容"));
        }
        Ok(value)
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
            kind: SyntaxErrorKind::Syntax,
        }
    }

    fn unexpected(&self, expected: &str) -> SyntaxError {
        match self.text[self.pos..].chars().next() {
            None => self.error(format!(
                "文件在这里提前结束了（文件不完整？），应为{expected}"
            )),
            Some(c) => self.error(format!("意外的字符 {c}，应为{expected}")),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, expected: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("嵌套超过 {MAX_DEPTH} 层")));
        }
        self.values += 1;
        if self.values > MAX_JSON_VALUES {
            return Err(self.error(format!("值超过 {MAX_JSON_VALUES} 个，不像是 data.json")));
        }
        if self.values.is_multiple_of(1024) && check_budget(self.stop).is_err() {
            return Err(SyntaxError {
                line: self.line,
                message: String::new(),
                kind: SyntaxErrorKind::Stopped,
            });
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => Ok(self.number()),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            _ => Err(self.unexpected("一个值（对象、文字或数字）")),
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.unexpected("一个值（对象、文字或数字）"))
        }
    }

    fn number(&mut self) -> Value {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        Value::Number(self.text[start..self.pos].to_owned())
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.pos += 1; // {
        let mut members = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Value::Object(members));
            }
            if self.peek() != Some(b'"') {
                return Err(self.unexpected(if members.is_empty() {
                    "带引号的键或 }"
                } else {
                    "带引号的键"
                }));
            }
            let line = self.line;
            let key = self.string()?;
            self.skip_space();
            self.expect(b':', " :")?;
            self.skip_space();
            let value = self.value(depth + 1)?;
            members.push(Member { key, line, value });
            self.skip_space();
            match self.peek() {
                // A comma may be followed directly by `}`: the trailing comma is tolerated.
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.unexpected(" , 或 }")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.pos += 1; // [
        loop {
            self.skip_space();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Value::Array);
            }
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                _ => return Err(self.unexpected(" , 或 ]")),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let start_line = self.line;
        self.pos += 1; // opening quote
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(SyntaxError {
                        line: start_line,
                        message: "文字缺少结尾的引号（文件不完整？）".to_owned(),
                        kind: SyntaxErrorKind::Syntax,
                    });
                }
                Some(b'"') => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                // The byte at `pos` would make the string this long.
                Some(_) if out.len() + (self.pos - run_start) >= MAX_CELL_BYTES => {
                    return Err(SyntaxError {
                        line: start_line,
                        message: format!("文字超过 {} KiB", MAX_CELL_BYTES / 1024),
                        kind: SyntaxErrorKind::Syntax,
                    });
                }
                Some(b'\n') => {
                    return Err(SyntaxError {
                        line: start_line,
                        message: "文字缺少结尾的引号".to_owned(),
                        kind: SyntaxErrorKind::Syntax,
                    });
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let Some(b) = self.peek() else {
            return Err(self.unexpected("转义字符"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{C}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    // A surrogate pair: `\uD83D\uDE00`.
                    if !self.text[self.pos..].starts_with("\\u") {
                        return Err(self.error("\\u 转义不完整（缺少代理对的后半部分）"));
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error("\\u 转义不是有效的代理对"));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code).ok_or_else(|| self.error("\\u 转义不是有效的字符"))?
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("有效的转义（\\\" \\\\ \\n \\uXXXX 等）"));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("\\u 后应为 4 位十六进制数"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("\\u 后应为 4 位十六进制数"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_file;
    use super::super::{FileFormat, MAX_CELL_BYTES, MAX_JSON_VALUES};
    use super::*;

    fn json(text: &str) -> Result<ParsedFile, FileError> {
        parse_file(FileFormat::DataJson, text.as_bytes())
    }

    fn line(line: usize, (y, m, d): (i32, u32, u32), shift: &str) -> FileLine {
        FileLine {
            line,
            date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            username: None,
            shift: shift.to_owned(),
            note: None,
        }
    }

    #[test]
    fn days_are_read_with_the_line_of_their_key() {
        let parsed = json(
            "{\n  \"2026\": {\n    \"1\": {\n      \"5\": \"A班\",\n      \"6\": \"休\"\n    },\n    \"2\": {\"1\": \" 夜班 \"}\n  }\n}\n",
        )
        .unwrap();
        assert_eq!(
            parsed.lines,
            vec![
                line(4, (2026, 1, 5), "A班"),
                line(5, (2026, 1, 6), "休"),
                line(7, (2026, 2, 1), "夜班"),
            ]
        );
        assert!(parsed.errors.is_empty());
    }

    #[test]
    fn trailing_commas_padded_keys_bom_and_escapes_are_tolerated() {
        let parsed = json(
            "\u{FEFF}{\"2026\":{\"01\":{\"05\":\"\\u4f11\",\"6\":\"A\\u73ed\",},},\"2025\":{\"12\":{\"31\":\"\\ud83d\\ude00\",\"30\":\"\",\"29\":null}},}",
        )
        .unwrap();
        assert_eq!(
            parsed.lines,
            vec![
                line(1, (2026, 1, 5), "休"),
                line(1, (2026, 1, 6), "A班"),
                line(1, (2025, 12, 31), "😀"),
            ]
        );
    }

    #[test]
    fn bad_keys_and_values_are_reported_at_their_line() {
        let parsed = json(
            "{\n\"2026\": {\n\"2\": {\n\"30\": \"A\",\n\"x\": \"A\",\n\"3\": 5,\n\"4\": \"A\"\n},\n\"13\": {},\n\"3\": \"A\"\n},\n\"20x6\": {}\n}",
        )
        .unwrap();
        assert_eq!(parsed.lines, vec![line(7, (2026, 2, 4), "A")]);
        assert_eq!(
            parsed.errors,
            vec![
                LineError::new(4, "日期 2026-02-30 不存在"),
                LineError::new(5, "2026 年 2 月的日期 x 无效"),
                LineError::new(6, "2026-02-03 的班次应为文字，却是数字 5"),
                LineError::new(9, "2026 年的月份 13 无效"),
                LineError::new(10, "2026 年 3 月的内容应为按日排列的对象"),
                LineError::new(12, "年份 20x6 无效"),
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let cases = [
            (
                "{\n\"2026\": {\n\"1\": {\"5\": \"A\"\n",
                "data.json 格式错误（第 4 行）：文件在这里提前结束了（文件不完整？），应为 , 或 }",
            ),
            (
                "{\"2026\": {\"1\": {\"5\": \"A",
                "data.json 格式错误（第 1 行）：文字缺少结尾的引号（文件不完整？）",
            ),
            (
                "{\n\"2026\": {\n\"1\": {\"5\" \"A\"}}}",
                "data.json 格式错误（第 3 行）：意外的字符 \"，应为 :",
            ),
            (
                "{\"2026\": {}}\n{}",
                "data.json 格式错误（第 2 行）：JSON 已经结束，后面还有多余的内容",
            ),
            (
                "{'2026': {}}",
                "data.json 格式错误（第 1 行）：意外的字符 '，应为带引号的键或 }",
            ),
            (
                "{\"a\":,}",
                "data.json 格式错误（第 1 行）：意外的字符 ,，应为一个值（对象、文字或数字）",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(json(text).unwrap_err().message, message, "{text}");
        }
    }

    #[test]
    fn wrong_shapes_and_binary_are_whole_file_errors() {
        assert_eq!(
            json("[1, 2]").unwrap_err().message,
            format!("data.json 的最外层应为按年、月、日排列的对象，例如 {EXAMPLE}")
        );
        assert_eq!(
            json("{}").unwrap_err().message,
            format!("data.json 中没有任何排班，应为 {EXAMPLE} 这样的内容")
        );
        assert_eq!(
            parse_file(FileFormat::DataJson, b"\x89PNG\r\n\x1a\n")
                .unwrap_err()
                .message,
            "不是 data.json 文件（看起来是 PNG 图片）"
        );
        assert_eq!(
            parse_file(FileFormat::DataJson, b"{\"\xFF\": 1}")
                .unwrap_err()
                .message,
            "不是 data.json 文件：应为 UTF-8 编码的 JSON 文本"
        );
        let deep = "[".repeat(10_000);
        assert_eq!(
            json(&deep).unwrap_err().message,
            "data.json 格式错误（第 1 行）：嵌套超过 32 层"
        );
    }

    #[test]
    fn duplicate_days_are_both_kept_for_the_preview_to_flag() {
        let parsed = json("{\"2026\": {\"1\": {\n\"5\": \"A\",\n\"05\": \"B\"}}}").unwrap();
        assert_eq!(
            parsed.lines,
            vec![line(2, (2026, 1, 5), "A"), line(3, (2026, 1, 5), "B")]
        );
    }

    #[test]
    fn keys_accept_zero_padding_only_up_to_the_digit_limit() {
        assert_eq!(key_number("01", 2), Some(1));
        assert_eq!(key_number("0012", 2), Some(12));
        assert_eq!(key_number("123", 2), None);
        assert_eq!(key_number("", 2), None);
        assert_eq!(key_number("-1", 2), None);
        assert_eq!(key_number(" 7 ", 2), Some(7));
        assert_eq!(key_number("2026", 4), Some(2026));
    }

    #[test]
    fn too_many_values_or_an_overlong_string_are_refused_naming_the_bound() {
        let many = format!(
            r#"{{"2026": {{"1": {{"5": [{}0]}}}}}}"#,
            "0,".repeat(MAX_JSON_VALUES)
        );
        assert_eq!(
            json(&many).unwrap_err().message,
            "data.json 格式错误（第 1 行）：值超过 200000 个，不像是 data.json"
        );
        let long = format!(
            r#"{{"2026": {{"1": {{"5": "{}"}}}}}}"#,
            "班".repeat(MAX_CELL_BYTES / 3 + 1)
        );
        assert_eq!(
            json(&long).unwrap_err().message,
            "data.json 格式错误（第 1 行）：文字超过 128 KiB"
        );
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            json(&deep).unwrap_err().message,
            "data.json 格式错误（第 1 行）：嵌套超过 32 层"
        );
    }
}
