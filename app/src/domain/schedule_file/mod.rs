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

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::InvalidValue;

pub use export::{ExportRow, write_csv};
pub use preview::{Lookup, PreviewRow, RowStatus, ShiftMatch, preview};

/// Schedule rows accepted in one file; larger imports are split by the user.
pub const MAX_ROWS: usize = 50_000;
/// A note is a short remark shown in the calendar, not a document.
pub const NOTE_MAX_CHARS: usize = 200;

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
}

/// Reads an uploaded file. Only whole-file problems are `Err`; row problems are in
/// `ParsedFile::errors`. A file with no schedule rows at all is an error too.
pub fn parse(format: FileFormat, bytes: &[u8]) -> Result<ParsedFile, FileError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::new("文件是空的"));
    }
    match format {
        FileFormat::Csv => csv_file::parse(bytes),
        FileFormat::Xlsx => xlsx_file::parse(bytes),
        FileFormat::DataJson => data_json::parse(bytes),
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
                assert_eq!(parse(format, bytes).unwrap_err().message, "文件是空的");
            }
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
            assert_eq!(parse(format, &junk).unwrap_err().message, expected);
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
    use chrono::NaiveDate;

    use super::FileLine;

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
