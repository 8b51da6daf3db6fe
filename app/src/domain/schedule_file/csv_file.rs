//! CSV text as Excel and text editors in China save it: UTF-8 with or without BOM, GBK
//! ("CSV (逗号分隔)" on Chinese Windows), or UTF-16 ("Unicode 文本", tab-separated).

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};

use super::export::unescape_formula;
use super::table::{Cell, Table};
use super::{
    FileError, MAX_CELL_BYTES, MAX_CELLS_PER_ROW, MAX_LINE_BYTES, ParsedFile, check_budget,
    describe_binary,
};

const NOT_TEXT: &str = "不是 CSV 文本文件";

pub(super) fn parse(bytes: &[u8], stop: &AtomicBool) -> Result<ParsedFile, FileError> {
    let text = decode(bytes)?;
    check_budget(stop)?;
    check_line_lengths(&text)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(detect_delimiter(&text))
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut table = Table::new(false);
    let mut lines = LineCounter::new(&text);
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // The text is valid UTF-8 and records may differ in length, so the reader has
            // nothing left to refuse; kept as a whole-file error all the same.
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                return Err(FileError::new(format!("第 {line} 行 CSV 格式错误")));
            }
        }
        let offset = record
            .position()
            .map_or(0, |position| usize::try_from(position.byte()).unwrap_or(0));
        let line = lines.line_at(offset);
        check_budget(stop)?;
        // A quoted field may span lines, so the record is bounded as well as each line.
        if record.as_slice().len() > MAX_LINE_BYTES {
            return Err(line_too_long(line));
        }
        if record.len() > MAX_CELLS_PER_ROW {
            return Err(FileError::new(format!(
                "第 {line} 行有超过 {MAX_CELLS_PER_ROW} 个字段，不像是排班表"
            )));
        }
        if record.iter().any(|field| field.len() > MAX_CELL_BYTES) {
            return Err(FileError::cell_too_long(line));
        }
        let cells = record
            .iter()
            .map(|field| Cell::Text(unescape_formula(field).to_owned()))
            .enumerate()
            .collect();
        table.push(line, cells)?;
    }
    table.finish()
}

/// Refuses a physical line over `MAX_LINE_BYTES` before the CSV reader buffers it.
fn check_line_lengths(text: &str) -> Result<(), FileError> {
    let too_long = text
        .split(['\n', '\r'])
        .position(|line| line.len() > MAX_LINE_BYTES);
    match too_long {
        Some(index) => Err(line_too_long(line_of_index(text, index))),
        None => Ok(()),
    }
}

/// The 1-based line number of the `index`-th piece of `text` split on `\r` and `\n`.
fn line_of_index(text: &str, index: usize) -> usize {
    let mut counter = LineCounter::new(text);
    let offset: usize = text
        .split(['\n', '\r'])
        .take(index)
        .map(|piece| piece.len() + 1)
        .sum();
    counter.line_at(offset)
}

fn line_too_long(line: usize) -> FileError {
    FileError::new(format!(
        "第 {line} 行超过 {} KiB，不像是排班表",
        MAX_LINE_BYTES / 1024
    ))
}

/// The 1-based line of a byte offset, counted forwards as records are read: the CSV
/// reader's own line count treats `\r\n` and line breaks inside quotes inconsistently.
/// A line ends at `\n`, `\r\n` or a lone `\r` (old Mac Excel).
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// `offset` is where the reader says a record starts, which may be on the line break
    /// (or blank lines) before it; those are skipped, a record never starts with one.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut end = offset.min(self.bytes.len());
        while matches!(self.bytes.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        if end > self.offset {
            for index in self.offset..end {
                match self.bytes[index] {
                    b'\n' => self.line += 1,
                    b'\r' if self.bytes.get(index + 1) != Some(&b'\n') => self.line += 1,
                    _ => {}
                }
            }
            self.offset = end;
        }
        self.line
    }
}

/// Text from bytes: UTF-16 when it says so with a BOM, UTF-8 when valid, otherwise GBK
/// (read with the GB18030 decoder, its superset). Anything else is refused before the CSV
/// reader sees it, so a binary upload fails at once with one clear message.
fn decode(bytes: &[u8]) -> Result<String, FileError> {
    if let Some(kind) = describe_binary(bytes) {
        return Err(FileError::new(format!("{NOT_TEXT}（看起来是 {kind}）")));
    }
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_strict(UTF_16LE, rest)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_strict(UTF_16BE, rest)?
    } else {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if body.contains(&0) {
            return Err(FileError::new(NOT_TEXT));
        }
        match std::str::from_utf8(body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => decode_strict(GB18030, body)?,
        }
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    if looks_binary(text) {
        return Err(FileError::new(NOT_TEXT));
    }
    Ok(text.to_owned())
}

fn decode_strict<'a>(
    encoding: &'static Encoding,
    bytes: &'a [u8],
) -> Result<Cow<'a, str>, FileError> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or_else(|| FileError::new(format!("{NOT_TEXT}（既不是 UTF-8 也不是 GBK 编码）")))
}

/// Control characters other than line breaks and tabs do not occur in typed text; a few
/// stray ones (a DOS end-of-file mark) are tolerated, many mean a binary file that happened
/// to decode.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        total += 1;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}' | '\u{1A}') {
            control += 1;
        }
    }
    control > 8.max(total / 100)
}

/// Comma unless the header line has none and uses tabs (Excel "Unicode 文本") or
/// semicolons (European Excel) instead.
fn detect_delimiter(text: &str) -> u8 {
    let first = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    if first.contains(',') {
        b','
    } else if first.contains('\t') {
        b'\t'
    } else if first.contains(';') {
        b';'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_file;
    use super::super::{FileFormat, LineError, MAX_ROWS};
    use super::*;
    use crate::domain::schedule_file::test_support::line;

    fn csv(text: &str) -> Result<ParsedFile, FileError> {
        parse_file(FileFormat::Csv, text.as_bytes())
    }

    #[test]
    fn english_header_with_crlf_lines() {
        let parsed = csv(
            "date,username,shift,note\r\n2026-01-05,zhangsan,A班,\r\n2026-01-06,lisi,早,带新人\r\n",
        )
        .unwrap();
        assert_eq!(
            parsed.lines,
            vec![
                line(2, 5, "zhangsan", "A班", None),
                line(3, 6, "lisi", "早", Some("带新人")),
            ]
        );
        assert!(parsed.errors.is_empty());
    }

    #[test]
    fn chinese_header_in_another_order_without_note() {
        let parsed = csv("班次,日期,用户名\n夜班,2026年1月5日,张三\n").unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "张三", "夜班", None)]);
    }

    #[test]
    fn utf8_bom_is_stripped_from_the_header() {
        let parsed = csv("\u{FEFF}日期,用户,班次\n2026/1/5,zhangsan,A\n").unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "zhangsan", "A", None)]);
    }

    #[test]
    fn gbk_csv_from_chinese_excel_is_decoded() {
        let text = "日期,用户名,班次,备注\r\n2026/1/5,张三,早班,调休补班\r\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err());
        let parsed = parse_file(FileFormat::Csv, &bytes).unwrap();
        assert_eq!(
            parsed.lines,
            vec![line(2, 5, "张三", "早班", Some("调休补班"))]
        );
    }

    #[test]
    fn utf16_tab_separated_unicode_text_is_read() {
        let text = "日期\t用户名\t班次\r\n2026-01-05\t张三\t早班\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let parsed = parse_file(FileFormat::Csv, &bytes).unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "张三", "早班", None)]);
    }

    #[test]
    fn semicolon_and_tab_separators_are_detected_from_the_header() {
        let parsed = csv("date;username;shift\n2026-01-05;a;A班\n").unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "a", "A班", None)]);
        let parsed = csv("date\tusername\tshift\n2026-01-05\ta\tA班, B\n").unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "a", "A班, B", None)]);
    }

    #[test]
    fn quoted_fields_keep_commas_and_line_numbers_follow_embedded_newlines() {
        let parsed = csv(
            "date,username,shift,note\n2026-01-05,a,A,\"x, \"\"y\"\"\nz\"\n\n2026-01-06,b,B,\n",
        )
        .unwrap();
        assert_eq!(
            parsed.lines,
            vec![
                line(2, 5, "a", "A", Some("x, \"y\"\nz")),
                line(5, 6, "b", "B", None),
            ]
        );
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_the_rest_is_kept() {
        let parsed = csv(
            "date,username,shift\n2026-02-30,a,A\n2026-01-05,a,A\nnot a date,b,B\n,c,\n2026-01-06\n",
        )
        .unwrap();
        assert_eq!(parsed.lines, vec![line(3, 5, "a", "A", None)]);
        assert_eq!(
            parsed.errors,
            vec![
                LineError::new(2, "日期 2026-02-30 不存在"),
                LineError::new(
                    4,
                    "无法识别的日期 not a date（应为 2026-01-05、2026/1/5、2026.1.5 或 2026年1月5日）"
                ),
                LineError::new(5, "日期为空；班次为空"),
                LineError::new(6, "用户名为空；班次为空"),
            ]
        );
    }

    #[test]
    fn only_a_header_is_refused() {
        for text in ["date,username,shift\n", "date,username,shift\n,,\n\n"] {
            assert_eq!(csv(text).unwrap_err().message, "文件只有表头，没有排班数据");
        }
        assert_eq!(csv(",,,\n,,\n").unwrap_err().message, "文件是空的");
    }

    #[test]
    fn missing_and_extra_columns_are_whole_file_errors() {
        assert_eq!(
            csv("date,username\n2026-01-05,a\n").unwrap_err().message,
            "缺少必需的列：班次（shift）"
        );
        assert_eq!(
            csv("date,username,shift,部门\n2026-01-05,a,A,x\n")
                .unwrap_err()
                .message,
            "无法识别的列：部门（可用的列：date/日期、username/用户名、shift/班次、note/备注）"
        );
    }

    #[test]
    fn text_that_is_not_a_schedule_says_what_the_header_should_be() {
        let error = csv("Hello,\nthis is a letter, not a schedule.\n").unwrap_err();
        assert_eq!(
            error.message,
            "不是排班表：第一行应为表头：日期、用户名、班次，可选备注（或 date、username、shift、note）；这个文件的第一行是 Hello,"
        );
        let error = csv("{\"2026\": {\"1\": {\"5\": \"A\"}}}").unwrap_err();
        assert!(error.message.starts_with("不是排班表"), "{}", error.message);
    }

    #[test]
    fn binary_files_are_refused_as_not_csv() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
        assert_eq!(
            parse_file(FileFormat::Csv, png).unwrap_err().message,
            "不是 CSV 文本文件（看起来是 PNG 图片）"
        );
        assert_eq!(
            parse_file(FileFormat::Csv, b"PK\x03\x04\x14\0\0\0")
                .unwrap_err()
                .message,
            "不是 CSV 文本文件（看起来是 ZIP 压缩包或 XLSX 文件）"
        );
        assert_eq!(
            parse_file(FileFormat::Csv, b"date,user\0name,shift\n")
                .unwrap_err()
                .message,
            "不是 CSV 文本文件"
        );
        // Not valid UTF-8 and not valid GBK either.
        assert_eq!(
            parse_file(FileFormat::Csv, b"date,\xFF\xFF,shift\n")
                .unwrap_err()
                .message,
            "不是 CSV 文本文件（既不是 UTF-8 也不是 GBK 编码）"
        );
        // Decodes, but is full of control characters.
        let controls: Vec<u8> = (0..200).map(|i| [1u8, 2, 3, b'a'][i % 4]).collect();
        assert_eq!(
            parse_file(FileFormat::Csv, &controls).unwrap_err().message,
            "不是 CSV 文本文件"
        );
    }

    #[test]
    fn random_bytes_are_refused_quickly_even_when_large() {
        // A deterministic pseudo-random stream (xorshift), 10 MB.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let junk: Vec<u8> = (0..10 * 1024 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let error = parse_file(FileFormat::Csv, &junk).unwrap_err();
        assert!(error.message.starts_with(NOT_TEXT), "{}", error.message);
        // Same without any NUL byte: refused by the decoders.
        let no_nul: Vec<u8> = junk.iter().map(|b| b | 0x80).collect();
        let error = parse_file(FileFormat::Csv, &no_nul).unwrap_err();
        assert!(error.message.starts_with(NOT_TEXT), "{}", error.message);
    }

    #[test]
    fn old_mac_line_endings_are_counted() {
        let parsed = csv("date,username,shift\r2026-01-05,a,A\r\r2026-01-06,b,B\r").unwrap();
        assert_eq!(
            parsed.lines,
            vec![line(2, 5, "a", "A", None), line(4, 6, "b", "B", None)]
        );
    }

    #[test]
    fn a_few_stray_control_characters_are_tolerated() {
        let parsed = csv("date,username,shift\n2026-01-05,a,A\n\u{1A}").unwrap();
        assert_eq!(parsed.lines.len(), 1);
    }

    #[test]
    fn more_than_max_rows_is_refused() {
        let mut text = String::from("date,username,shift\n");
        for _ in 0..=MAX_ROWS {
            text.push_str("2026-01-05,a,A\n");
        }
        assert_eq!(
            csv(&text).unwrap_err().message,
            "最多 50000 行排班，这个文件超过了，请拆分成几个文件分批导入"
        );
    }

    #[test]
    fn overlong_lines_records_fields_and_rows_are_refused_naming_the_bound() {
        let header = "日期,用户名,班次\n";
        let long_line = format!("{header}2026-01-05,a,{}\n", "x".repeat(MAX_LINE_BYTES));
        assert_eq!(
            csv(&long_line).unwrap_err().message,
            "第 2 行超过 256 KiB，不像是排班表"
        );
        // Counted by the line the user sees, with CRLF and lone CR too.
        let crlf = format!(
            "{header}\r\n2026-01-05,a,A\r{}",
            "x".repeat(MAX_LINE_BYTES + 1)
        );
        assert_eq!(
            csv(&crlf).unwrap_err().message,
            "第 4 行超过 256 KiB，不像是排班表"
        );
        // Short lines, one quoted field spanning them all.
        let spanning = format!(
            "{header}2026-01-05,a,\"{}\"\n",
            "xxxxxxxxxxxxxxx\n".repeat(MAX_LINE_BYTES / 16 + 1)
        );
        assert_eq!(
            csv(&spanning).unwrap_err().message,
            "第 2 行超过 256 KiB，不像是排班表"
        );
        let long_field = format!("{header}2026-01-05,a,{}\n", "x".repeat(MAX_CELL_BYTES + 1));
        assert_eq!(
            csv(&long_field).unwrap_err().message,
            "第 2 行有单元格超过 128 KiB，不像是排班表"
        );
        let wide = format!("{header}2026-01-05,a,A{}\n", ",".repeat(MAX_CELLS_PER_ROW));
        assert_eq!(
            csv(&wide).unwrap_err().message,
            "第 2 行有超过 256 个字段，不像是排班表"
        );
    }
}
