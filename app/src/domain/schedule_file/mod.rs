//! Schedule import (排班导入) and export files, server side only.
//!
//! `parse` turns an uploaded file into dated lines, or one whole-file error when the file
//! cannot be read as a schedule at all (empty, binary, damaged, no usable header). Problems
//! of single rows (a bad date, an empty cell) are collected per line so the preview can show
//! every one of them at once. `preview` then resolves names against the caller's lookups
//! without touching the database itself. `write_csv` produces a file `parse` reads back.
//!
//! Line numbers are the ones the user sees: the physical line of a CSV record, the row of an
//! XLSX sheet, the line of the day key in `data.json`.

mod csv_file;
mod data_json;
mod export;
mod preview;
mod table;
mod xlsx_file;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::InvalidValue;

pub use export::{ExportRow, write_csv};
pub use preview::{Lookup, PreviewRow, RowStatus, ShiftMatch, preview};

/// Schedule rows accepted in one file; larger imports are split by the user.
pub const MAX_ROWS: usize = 50_000;
/// A note is a short remark shown in the calendar, not a document.
pub const NOTE_MAX_CHARS: usize = 200;

// What one uploaded file may make the server allocate or compute. Every bound is checked
// before the work it guards (a declared count before anything is sized from it), and the
// error names it.

/// The largest file parsed at all, in any format.
pub const MAX_FILE_BYTES: usize = super::MAX_UPLOAD_FILE_BYTES;
/// All parts of an XLSX (a ZIP archive) together, decompressed.
pub const MAX_UNZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// One part of an XLSX, decompressed.
pub const MAX_ZIP_PART_BYTES: u64 = 40 * 1024 * 1024;
/// Parts in an XLSX; Excel writes a few dozen.
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Shared strings an XLSX may declare or hold (the reader reserves room for the declared
/// number up front).
pub const MAX_SHARED_STRINGS: u64 = 500_000;
/// `<c>` elements in one worksheet, blank ones included.
pub const MAX_SHEET_CELLS: usize = 1_000_000;
/// `<row>` elements in one worksheet, blank ones included.
pub const MAX_SHEET_ROWS: usize = 200_000;
/// A schedule has four columns; a row with hundreds of filled cells is not one.
pub const MAX_CELLS_PER_ROW: usize = 256;
/// One cell, CSV field or JSON string; Excel's own limit (32,767 characters) fits.
pub const MAX_CELL_BYTES: usize = 128 * 1024;
/// One CSV line.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Values (objects, strings, numbers…) in a `data.json`; ten years of days is ~3,700.
pub const MAX_JSON_VALUES: usize = 200_000;
/// Wall-clock time one parse may take; the caller sets the stop flag when it runs out.
pub const PARSE_BUDGET_SECS: u64 = 15;

/// The kind of uploaded file, chosen by the user (or from the extension) before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Xlsx,
    /// The original system's `data.json` (year → month → day → shift) of one user.
    DataJson,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::DataJson => "datajson",
        }
    }
}

impl FromStr for FileFormat {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            "datajson" => Ok(Self::DataJson),
            _ => Err(InvalidValue {
                expected: "csv、xlsx 或 datajson",
            }),
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One schedule entry as written in the file; names are not resolved yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLine {
    /// 1-based line (CSV, data.json) or row (XLSX) number as the user sees it.
    pub line: usize,
    pub date: NaiveDate,
    /// `None` for data.json, whose user the caller chooses.
    pub username: Option<String>,
    /// A shift name or short label, trimmed; `休` in data.json means rest.
    pub shift: String,
    pub note: Option<String>,
}

/// A row that could not be read. `message` is zh-CN and names the offending value; the
/// `Display` form adds the line ("第 3 行：日期 2026-02-30 不存在").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("第 {line} 行：{message}")]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl LineError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// What a file says: the rows that could be read and the ones that could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedFile {
    pub lines: Vec<FileLine>,
    pub errors: Vec<LineError>,
}

/// The file as a whole cannot be used; nothing of it is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    pub message: String,
}

impl FileError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    fn too_many_rows() -> Self {
        Self::new(format!(
            "最多 {MAX_ROWS} 行排班，这个文件超过了，请拆分成几个文件分批导入"
        ))
    }

    /// The time budget ran out (`stop` was set).
    pub fn over_budget() -> Self {
        Self::new(format!(
            "解析文件超过 {PARSE_BUDGET_SECS} 秒，已停止；请拆分文件后再导入"
        ))
    }

    fn cell_too_long(line: usize) -> Self {
        Self::new(format!(
            "第 {line} 行有单元格超过 {} KiB，不像是排班表",
            MAX_CELL_BYTES / 1024
        ))
    }
}

/// Reads an uploaded file. Only whole-file problems are `Err`; row problems are in
/// `ParsedFile::errors`. A file with no schedule rows at all is an error too.
///
/// `stop` is the wall-clock budget: the caller sets it when `PARSE_BUDGET_SECS` have passed
/// and the parse returns `FileError::over_budget` soon after (it is checked between rows,
/// cells and decompressed chunks), so the work really ends rather than running on unseen.
pub fn parse(format: FileFormat, bytes: &[u8], stop: &AtomicBool) -> Result<ParsedFile, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::new(format!(
            "文件超过 {} MiB，请拆分成几个文件分批导入",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::new("文件是空的"));
    }
    match format {
        FileFormat::Csv => csv_file::parse(bytes, stop),
        FileFormat::Xlsx => xlsx_file::parse(bytes, stop),
        FileFormat::DataJson => data_json::parse(bytes, stop),
    }
}

/// `Err(over_budget)` once the caller has set `stop`.
fn check_budget(stop: &AtomicBool) -> Result<(), FileError> {
    if stop.load(Ordering::Relaxed) {
        Err(FileError::over_budget())
    } else {
        Ok(())
    }
}

/// The start of well-known binary formats, for a message that says what the file is.
fn describe_binary(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "ZIP 压缩包或 XLSX 文件"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "Excel 97-2003（.xls）或 Word 文件",
        ),
        (b"\x89PNG", "PNG 图片"),
        (b"\xFF\xD8\xFF", "JPEG 图片"),
        (b"GIF8", "GIF 图片"),
        (b"%PDF", "PDF 文件"),
        (b"Rar!", "RAR 压缩包"),
        (b"7z\xBC\xAF", "7z 压缩包"),
        (b"\x1F\x8B", "gzip 压缩包"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
}

/// A value quoted in a message, cut short so that a runaway cell cannot flood the preview.
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() > MAX {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::parse_file;
    use super::*;

    #[test]
    fn formats_parse_from_their_names() {
        for format in [FileFormat::Csv, FileFormat::Xlsx, FileFormat::DataJson] {
            assert_eq!(format.as_str().parse::<FileFormat>().unwrap(), format);
        }
        assert_eq!(" XLSX ".parse::<FileFormat>().unwrap(), FileFormat::Xlsx);
        assert!("xls".parse::<FileFormat>().is_err());
        assert_eq!(
            serde_json::to_string(&FileFormat::DataJson).unwrap(),
            "\"datajson\""
        );
    }

    #[test]
    fn empty_file_is_refused_in_every_format() {
        for format in [FileFormat::Csv, FileFormat::Xlsx, FileFormat::DataJson] {
            for bytes in [&b""[..], b"  \r\n\t"] {
                assert_eq!(parse_file(format, bytes).unwrap_err().message, "文件是空的");
            }
        }
    }

    #[test]
    fn a_file_over_the_size_bound_is_refused_before_it_is_read() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        for format in [FileFormat::Csv, FileFormat::Xlsx, FileFormat::DataJson] {
            assert_eq!(
                parse_file(format, &big).unwrap_err().message,
                "文件超过 16 MiB，请拆分成几个文件分批导入"
            );
        }
    }

    #[test]
    fn a_parse_whose_budget_ran_out_stops_in_every_format() {
        let stopped = AtomicBool::new(true);
        let csv = "日期,用户名,班次\n2026-01-05,a,A\n";
        let json = r#"{"2026": {"1": {"5": "A"}}}"#;
        let xlsx = test_support::tiny_xlsx();
        for (format, bytes) in [
            (FileFormat::Csv, csv.as_bytes()),
            (FileFormat::DataJson, json.as_bytes()),
            (FileFormat::Xlsx, &xlsx[..]),
        ] {
            assert_eq!(parse_file(format, bytes).map(|p| p.lines.len()), Ok(1));
            assert_eq!(
                parse(format, bytes, &stopped).unwrap_err().message,
                "解析文件超过 15 秒，已停止；请拆分文件后再导入"
            );
        }
    }

    #[test]
    fn ten_megabytes_of_junk_fail_fast_with_a_clear_message_in_every_format() {
        let mut state = 0x0123_4567_89AB_CDEFu64;
        let junk: Vec<u8> = (0..10 * 1024 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as u8
            })
            .collect();
        for (format, expected) in [
            (FileFormat::Csv, "不是 CSV 文本文件"),
            (FileFormat::Xlsx, "不是 XLSX 文件"),
            (
                FileFormat::DataJson,
                "不是 data.json 文件：应为 UTF-8 编码的 JSON 文本",
            ),
        ] {
            assert_eq!(parse_file(format, &junk).unwrap_err().message, expected);
        }
    }

    /// A valid input of each format, to be cut short and damaged by the fuzz tests.
    fn samples() -> Vec<(FileFormat, Vec<u8>)> {
        vec![
            (FileFormat::Xlsx, test_support::tiny_xlsx()),
            (
                FileFormat::Csv,
                "日期,用户名,班次,备注\r\n2026-01-05,a,A,\"x,\n\"\"y\"\"\"\r\n"
                    .as_bytes()
                    .to_vec(),
            ),
            (
                FileFormat::DataJson,
                r#"{"2026": {"01": {"5": "A", "6": null,}}}"#.as_bytes().to_vec(),
            ),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]

        /// Whatever the bytes, every parser answers: rows or a clean error, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            for format in [FileFormat::Csv, FileFormat::Xlsx, FileFormat::DataJson] {
                let _ = parse_file(format, &bytes);
            }
            // As a ZIP, so the XLSX path goes past the signature check.
            let mut zipped = b"PK\x03\x04".to_vec();
            zipped.extend_from_slice(&bytes);
            let _ = parse_file(FileFormat::Xlsx, &zipped);
        }

        /// Valid files cut short and with bytes changed: still an answer, never a panic.
        #[test]
        fn truncated_and_damaged_files_never_panic(
            cut in 0.0f64..=1.0,
            changes in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..8),
        ) {
            for (format, mut bytes) in samples() {
                for (at, byte) in &changes {
                    let index = ((bytes.len() as f64) * at) as usize;
                    if let Some(slot) = bytes.get_mut(index) {
                        *slot = *byte;
                    }
                }
                let keep = ((bytes.len() as f64) * cut) as usize;
                let _ = parse_file(format, &bytes[..keep.min(bytes.len())]);
            }
        }

        /// Random sheet XML inside a well-formed archive reaches calamine's cell reader.
        #[test]
        fn random_sheet_xml_never_panics(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<row>", "</row>", "<row r=\"3\">", "<c>", "</c>", "<c r=\"B2\" t=\"s\">",
                "<c t=\"inlineStr\">", "<is><t>", "</t></is>", "<v>", "</v>", "1", "2026-01-05",
                "45000.5", "&amp;", "<f>A1</f>", "<c r=\"XFD1048576\">", "<c t=\"e\">", "#N/A",
            ]), 0..64),
        ) {
            let sheet: String = pieces.concat();
            let shared = r#"<sst count="1" uniqueCount="1"><si><t>x</t></si></sst>"#;
            let _ = parse_file(FileFormat::Xlsx, &test_support::xlsx_with(&sheet, Some(shared)));
        }
    }

    #[test]
    fn line_errors_display_with_their_line() {
        let error = LineError::new(3, "日期 2026-02-30 不存在");
        assert_eq!(error.to_string(), "第 3 行：日期 2026-02-30 不存在");
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        assert_eq!(shown("abc"), "abc");
        assert_eq!(shown(&"班".repeat(41)), format!("{}…", "班".repeat(40)));
    }
}

/// Expected lines for the format tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::io::{Cursor, Write as _};
    use std::sync::atomic::AtomicBool;

    use chrono::NaiveDate;
    use zip::write::SimpleFileOptions;

    use super::{FileError, FileFormat, FileLine, ParsedFile};

    /// `parse` with a budget that never runs out.
    pub fn parse_file(format: FileFormat, bytes: &[u8]) -> Result<ParsedFile, FileError> {
        super::parse(format, bytes, &AtomicBool::new(false))
    }

    /// A ZIP of `(name, content)` parts, deflated.
    pub fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in parts {
            writer
                .start_file(*name, SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// The smallest workbook calamine reads: one sheet with `sheet_data` (the inside of
    /// `<sheetData>`) and, when given, `shared` as `xl/sharedStrings.xml`.
    pub fn xlsx_with(sheet_data: &str, shared: Option<&str>) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        let rels = format!(
            r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        );
        let workbook = format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        );
        let workbook_rels = format!(
            r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        );
        let sheet =
            format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>"#);
        let mut parts: Vec<(&str, &[u8])> = vec![
            ("_rels/.rels", rels.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        if let Some(shared) = shared {
            parts.push(("xl/sharedStrings.xml", shared.as_bytes()));
        }
        zip_of(&parts)
    }

    /// A header and one schedule row.
    pub fn tiny_xlsx() -> Vec<u8> {
        xlsx_with(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>date</t></is></c><c r="B1" t="inlineStr"><is><t>user</t></is></c><c r="C1" t="inlineStr"><is><t>shift</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>2026-01-05</t></is></c><c r="B2" t="inlineStr"><is><t>a</t></is></c><c r="C2" t="inlineStr"><is><t>A</t></is></c></row>"#,
            None,
        )
    }

    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub fn line(line: usize, day: u32, user: &str, shift: &str, note: Option<&str>) -> FileLine {
        FileLine {
            line,
            date: date(2026, 1, day),
            username: Some(user.to_owned()),
            shift: shift.to_owned(),
            note: note.map(str::to_owned),
        }
    }
}
