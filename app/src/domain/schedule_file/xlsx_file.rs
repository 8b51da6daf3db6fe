//! XLSX workbooks: the first visible worksheet, read cell by cell (never the whole sheet
//! as a grid, so a sheet claiming a huge dimension costs nothing) and stopped after
//! `MAX_ROWS` rows. Dates may be real date cells or text; numbers are read as text where
//! text is expected (an account `1001`).
//!
//! Before calamine opens the archive, `check_archive` decompresses every part once with
//! the same zip and XML readers and refuses what would make calamine allocate or work
//! beyond our bounds: parts that inflate too far (a zip bomb), a shared-string count
//! calamine would reserve room for, too many cells or rows, cell positions outside
//! Excel's grid (calamine's arithmetic on them overflows), overlong cell text.

use std::io::{self, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use chrono::NaiveDate;
use quick_xml::events::Event;

use super::table::{Cell, Table};
use super::{
    FileError, MAX_CELL_BYTES, MAX_CELLS_PER_ROW, MAX_SHARED_STRINGS, MAX_SHEET_CELLS,
    MAX_SHEET_ROWS, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES, MAX_ZIP_PART_BYTES, ParsedFile,
    check_budget, describe_binary,
};

const DAMAGED: &str = "XLSX 文件已损坏或不完整，无法读取；请在 Excel 中重新保存后再导入";
const PASSWORD: &str = "XLSX 文件设置了密码，请在 Excel 中取消密码后再导入";
/// Excel's grid: columns A–XFD, rows 1–1,048,576.
const MAX_COLUMN: u32 = 16_384;
const MAX_ROW: u32 = 1_048_576;

pub(super) fn parse(bytes: &[u8], stop: &AtomicBool) -> Result<ParsedFile, FileError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_xlsx(bytes));
    }
    check_archive(bytes, stop)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(damaged)?;
    check_budget(stop)?;
    let is_1904 = workbook.has_1904_epoch();
    let worksheets: Vec<_> = workbook
        .sheets_metadata()
        .iter()
        .filter(|sheet| sheet.typ == SheetType::WorkSheet)
        .collect();
    let name = worksheets
        .iter()
        .find(|sheet| sheet.visible == SheetVisible::Visible)
        .or(worksheets.first())
        .map(|sheet| sheet.name.clone())
        .ok_or_else(|| FileError::new("XLSX 文件中没有工作表"))?;

    let mut reader = workbook.worksheet_cells_reader(&name).map_err(damaged)?;
    let mut table = Table::new(is_1904);
    let mut row: Option<u32> = None;
    let mut cells = Vec::new();
    loop {
        check_budget(stop)?;
        let next = reader.next_cell().map_err(damaged)?;
        let next_row = next.as_ref().map(|cell| cell.get_position().0);
        if let Some(current) = row.filter(|current| Some(*current) != next_row) {
            table.push(line_of(current), std::mem::take(&mut cells))?;
        }
        let Some(cell) = next else {
            break;
        };
        let (at_row, column) = cell.get_position();
        row = Some(at_row);
        if let Some(value) = convert(cell.get_value()) {
            if cells.len() >= MAX_CELLS_PER_ROW {
                return Err(FileError::new(format!(
                    "第 {} 行有超过 {MAX_CELLS_PER_ROW} 个单元格，不像是排班表",
                    line_of(at_row)
                )));
            }
            if matches!(&value, Cell::Text(text) if text.len() > MAX_CELL_BYTES) {
                return Err(FileError::cell_too_long(line_of(at_row)));
            }
            cells.push((usize::try_from(column).unwrap_or(usize::MAX), value));
        }
    }
    table.finish()
}

/// The row number the user sees for calamine's 0-based row.
fn line_of(row: u32) -> usize {
    usize::try_from(row).unwrap_or(usize::MAX).saturating_add(1)
}

/// Decompresses every part of the archive once, within `MAX_ZIP_PART_BYTES` each and
/// `MAX_UNZIPPED_BYTES` in all, and checks the XML calamine would read from it. The check
/// reads each part with the reader and settings calamine uses, so it sees the same elements
/// calamine would, up to the point where a part stops being XML (where calamine stops too).
fn check_archive(bytes: &[u8], stop: &AtomicBool) -> Result<(), FileError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| FileError::new(DAMAGED))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(FileError::new(format!(
            "XLSX 文件包含超过 {MAX_ZIP_ENTRIES} 个部件，不像是排班表"
        )));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        check_budget(stop)?;
        let part = match archive.by_index(index) {
            Ok(part) => part,
            Err(zip::result::ZipError::UnsupportedArchive(reason))
                if reason == zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                return Err(FileError::new(PASSWORD));
            }
            Err(_) => return Err(FileError::new(DAMAGED)),
        };
        let mut bounded = Bounded {
            inner: part,
            read: 0,
            limit: MAX_ZIP_PART_BYTES.min(MAX_UNZIPPED_BYTES - total),
            stop,
            halt: None,
        };
        let checked = check_xml(&mut bounded);
        if bounded.halt.is_none() && checked.is_ok() {
            // What the XML reader did not consume still counts towards the bounds.
            let drained = io::copy(&mut bounded, &mut io::sink());
            if bounded.halt.is_none() {
                drained.map_err(|_| FileError::new(DAMAGED))?;
            }
        }
        match bounded.halt {
            Some(Halt::Stopped) => return Err(FileError::over_budget()),
            Some(Halt::TooBig) if bounded.limit < MAX_ZIP_PART_BYTES => {
                return Err(FileError::new(format!(
                    "XLSX 文件解压后超过 {} MiB，不像是排班表",
                    MAX_UNZIPPED_BYTES / 1024 / 1024
                )));
            }
            Some(Halt::TooBig) => {
                return Err(FileError::new(format!(
                    "XLSX 文件中的部件 {} 解压后超过 {} MiB，不像是排班表",
                    super::shown(&bounded.inner.name().unwrap_or_default()),
                    MAX_ZIP_PART_BYTES / 1024 / 1024
                )));
            }
            None => checked?,
        }
        total += bounded.read;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halt {
    TooBig,
    Stopped,
}

/// A decompressing reader that fails once more than `limit` bytes came out of it, or once
/// the time budget ran out; `halt` says which.
struct Bounded<'a, R> {
    inner: R,
    read: u64,
    limit: u64,
    stop: &'a AtomicBool,
    halt: Option<Halt>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.halt.is_some() {
            return Err(io::Error::other("bound reached"));
        }
        if self.stop.load(Ordering::Relaxed) {
            self.halt = Some(Halt::Stopped);
            return Err(io::Error::other("time budget ran out"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            self.halt = Some(Halt::TooBig);
            return Err(io::Error::other("decompressed size bound reached"));
        }
        Ok(n)
    }
}

/// Checks one part as calamine's XML reader would see it. A part that is not XML (or stops
/// being XML) is fine here: calamine refuses it when it is a part it reads.
fn check_xml<R: Read>(reader: &mut R) -> Result<(), FileError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    // calamine's settings (xlsx::xml_reader): the same events, element for element.
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;

    let mut buf = Vec::with_capacity(1024);
    let (mut cells, mut rows, mut strings) = (0usize, 0usize, 0u64);
    // Bytes of text since a `<t>`, `<v>` or `<f>` opened (its raw length: escapes decode
    // to no more than they take).
    let mut text: Option<usize> = None;
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(event) => event,
        };
        match event {
            Event::Start(element) => {
                let local = element.local_name();
                let name: &str = local.as_ref();
                let attributes = element.attributes_raw();
                match name {
                    "sst" => check_shared_string_counts(attributes)?,
                    "si" => {
                        strings += 1;
                        if strings > MAX_SHARED_STRINGS {
                            return Err(too_many_shared_strings());
                        }
                    }
                    "c" => {
                        cells += 1;
                        if cells > MAX_SHEET_CELLS {
                            return Err(FileError::new(format!(
                                "工作表的单元格超过 {MAX_SHEET_CELLS} 个（含空白单元格），不像是排班表"
                            )));
                        }
                        check_positions(attributes, "r")?;
                    }
                    "row" => {
                        rows += 1;
                        if rows > MAX_SHEET_ROWS {
                            return Err(FileError::new(format!(
                                "工作表超过 {MAX_SHEET_ROWS} 行（含空白行），不像是排班表"
                            )));
                        }
                        check_positions(attributes, "r")?;
                    }
                    "dimension" => check_positions(attributes, "ref")?,
                    _ => {}
                }
                text = matches!(name, "t" | "v" | "f").then_some(0);
            }
            Event::End(_) => text = None,
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                if let Some(length) = &mut text {
                    *length += buf.len();
                    if *length > MAX_CELL_BYTES {
                        return Err(FileError::new(format!(
                            "XLSX 文件中有单元格超过 {} KiB，不像是排班表",
                            MAX_CELL_BYTES / 1024
                        )));
                    }
                }
            }
            _ => {}
        }
    }
}

fn too_many_shared_strings() -> FileError {
    FileError::new(format!(
        "XLSX 文件的共享字符串超过 {MAX_SHARED_STRINGS} 个，不像是排班表"
    ))
}

/// calamine reserves room for `uniqueCount` strings before reading any: the count must be
/// a plain number within `MAX_SHARED_STRINGS` (so must `count`, the references to them).
fn check_shared_string_counts(attributes: &str) -> Result<(), FileError> {
    for (key, value) in raw_attributes(attributes) {
        if key != "uniqueCount" && key != "count" {
            continue;
        }
        let digits = value.trim_start_matches('0');
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FileError::new(DAMAGED));
        }
        let count = if digits.is_empty() {
            Some(0)
        } else {
            digits.parse::<u64>().ok()
        };
        if count.is_none_or(|count| count > MAX_SHARED_STRINGS) {
            return Err(too_many_shared_strings());
        }
    }
    Ok(())
}

/// Cell positions (`r` of a cell or row, `ref` of the dimension): calamine computes with
/// them in `u32`, which overflows outside Excel's grid.
fn check_positions(attributes: &str, key: &str) -> Result<(), FileError> {
    for (name, value) in raw_attributes(attributes) {
        if name == key && !value.split(':').all(is_position) {
            return Err(FileError::new(format!(
                "XLSX 文件中的单元格位置 {} 超出 Excel 的范围（XFD1048576）",
                super::shown(value)
            )));
        }
    }
    Ok(())
}

/// `A1`, `XFD1048576`, a column alone (`B`) or a row alone (`12`), within Excel's grid.
fn is_position(text: &str) -> bool {
    let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (column, row) = text.split_at(letters);
    if text.is_empty() || letters > 3 || !row.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let column_number = column.bytes().fold(0u32, |number, letter| {
        number * 26 + u32::from(letter.to_ascii_uppercase() - b'A') + 1
    });
    let row_ok = row.is_empty()
        || (row.len() <= 7 && row.parse::<u32>().is_ok_and(|number| number <= MAX_ROW));
    column_number <= MAX_COLUMN && row_ok
}

/// The `(key, value)` pairs of a start tag's attribute text, split exactly as calamine
/// splits them (`attrs::RawAttrIter`), so a check sees every value calamine could read.
/// Stops at the first malformed attribute, where calamine stops too.
fn raw_attributes(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    let bytes = raw.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        let len = bytes.len();
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= len {
            return None;
        }
        let key_start = pos;
        while pos < len && bytes[pos] != b'=' {
            pos += 1;
        }
        if pos >= len {
            return None;
        }
        let key = raw[key_start..pos].trim_ascii_end();
        pos += 1;
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = bytes
            .get(pos)
            .copied()
            .filter(|q| matches!(q, b'"' | b'\''))?;
        pos += 1;
        let value_start = pos;
        while pos < len && bytes[pos] != quote {
            pos += 1;
        }
        let value = &raw[value_start..pos];
        if pos < len {
            pos += 1;
        }
        Some((key, value))
    })
}

fn convert(value: &DataRef<'_>) -> Option<Cell> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(text) => Cell::Text(text.clone()),
        DataRef::SharedString(text) => Cell::Text((*text).to_owned()),
        DataRef::Int(number) => Cell::Number(*number as f64),
        DataRef::Float(number) => Cell::Number(*number),
        DataRef::Bool(value) => Cell::Text(if *value { "TRUE" } else { "FALSE" }.to_owned()),
        DataRef::DateTime(date) if date.is_duration() => Cell::Text(date.to_string()),
        DataRef::DateTime(date) => {
            let (year, month, day, ..) = date.to_ymd_hms_milli();
            match NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day)) {
                Some(date) => Cell::Date(date),
                // Excel's fictitious 1900-02-29 is reported like any impossible date.
                None => Cell::Text(format!("{year:04}-{month:02}-{day:02}")),
            }
        }
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => Cell::Text(text.clone()),
        DataRef::Error(error) => Cell::Text(error.to_string()),
    })
}

fn damaged(error: XlsxError) -> FileError {
    match error {
        XlsxError::Password => FileError::new(PASSWORD),
        XlsxError::FileNotFound(_) | XlsxError::RelationshipNotFound => {
            FileError::new("这个 ZIP 文件不是 Excel 工作簿（XLSX）")
        }
        _ => FileError::new(DAMAGED),
    }
}

fn not_xlsx(bytes: &[u8]) -> FileError {
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return FileError::new(
            "这是 Excel 97-2003（.xls）文件或加了密码的 Excel 文件，请在 Excel 中另存为不加密的 .xlsx 后再导入",
        );
    }
    if let Some(kind) = describe_binary(bytes) {
        return FileError::new(format!("不是 XLSX 文件（看起来是 {kind}）"));
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text_like = !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            // A multi-byte character cut at the end of the sample is still text.
            Err(error) => error.valid_up_to() + 4 >= head.len(),
        };
    if text_like {
        FileError::new("不是 XLSX 文件（看起来是文本文件，CSV 请按 CSV 格式导入）")
    } else {
        FileError::new("不是 XLSX 文件")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::super::test_support::{parse_file, tiny_xlsx, xlsx_with, zip_of};
    use super::super::{FileFormat, LineError};
    use super::*;
    use crate::domain::schedule_file::test_support::line;

    /// A cell of a hand-built test workbook.
    enum X<'a> {
        /// Inline string.
        S(&'a str),
        /// Shared string.
        Shared(&'a str),
        /// Number without a format.
        N(f64),
        /// Number with the custom date format `yyyy/m/d`.
        Date(f64),
        /// Number with built-in date format 14.
        BuiltinDate(f64),
        Empty,
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    fn column_name(index: usize) -> String {
        let mut name = String::new();
        let mut n = index + 1;
        while n > 0 {
            let rem = (n - 1) % 26;
            name.insert(0, char::from(b'A' + u8::try_from(rem).unwrap()));
            n = (n - 1) / 26;
        }
        name
    }

    /// A minimal XLSX: content types, package and workbook relationships, styles (one custom
    /// date format, one built-in), shared strings, one worksheet named 排班 (plus a hidden
    /// first sheet when `hidden_first`). Rows are `(row number, cells)`.
    fn workbook(rows: &[(u32, Vec<X<'_>>)], hidden_first: bool) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        let mut shared: Vec<String> = Vec::new();
        let mut sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>"#
        );
        for (number, cells) in rows {
            sheet.push_str(&format!(r#"<row r="{number}">"#));
            for (index, cell) in cells.iter().enumerate() {
                let at = format!("{}{number}", column_name(index));
                let xml = match cell {
                    X::S(text) => format!(
                        r#"<c r="{at}" t="inlineStr"><is><t>{}</t></is></c>"#,
                        escape(text)
                    ),
                    X::Shared(text) => {
                        shared.push(escape(text));
                        format!(r#"<c r="{at}" t="s"><v>{}</v></c>"#, shared.len() - 1)
                    }
                    X::N(value) => format!(r#"<c r="{at}"><v>{value}</v></c>"#),
                    X::Date(value) => format!(r#"<c r="{at}" s="1"><v>{value}</v></c>"#),
                    X::BuiltinDate(value) => {
                        format!(r#"<c r="{at}" s="2"><v>{value}</v></c>"#)
                    }
                    X::Empty => String::new(),
                };
                sheet.push_str(&xml);
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        let strings: String = shared
            .iter()
            .map(|text| format!("<si><t>{text}</t></si>"))
            .collect();
        let (hidden_sheet, hidden_rel) = if hidden_first {
            (
                r#"<sheet name="说明" sheetId="2" state="hidden" r:id="rId9"/>"#.to_owned(),
                format!(
                    r#"<Relationship Id="rId9" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>"#
                ),
            )
        } else {
            (String::new(), String::new())
        };
        let files = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{hidden_sheet}<sheet name="排班" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{hidden_rel}<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/><Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/styles.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d"/></numFmts><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#
                ),
            ),
            (
                "xl/sharedStrings.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{0}" uniqueCount="{0}">{strings}</sst>"#,
                    shared.len()
                ),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
            (
                "xl/worksheets/sheet2.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>这是说明</t></is></c></row></sheetData></worksheet>"#
                ),
            ),
        ];
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in files {
            writer
                .start_file(name, SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn xlsx(bytes: &[u8]) -> Result<ParsedFile, FileError> {
        parse_file(FileFormat::Xlsx, bytes)
    }

    fn sample() -> Vec<u8> {
        workbook(
            &[
                (
                    1,
                    vec![
                        X::S("日期"),
                        X::Shared("用户名"),
                        X::S("班次"),
                        X::S("备注"),
                    ],
                ),
                (
                    2,
                    vec![X::Date(46027.0), X::S("张三"), X::Shared("A班"), X::Empty],
                ),
                (
                    3,
                    vec![
                        X::S("2026/1/6"),
                        X::N(1001.0),
                        X::S("夜班"),
                        X::S("a < b & c"),
                    ],
                ),
                (
                    5,
                    vec![X::BuiltinDate(46030.0), X::Shared("lisi"), X::S("休")],
                ),
                (6, vec![X::N(46031.0), X::S("lisi"), X::S("A")]),
                (7, vec![X::S("2026-02-30"), X::S("lisi"), X::S("A")]),
            ],
            false,
        )
    }

    #[test]
    fn date_cells_text_dates_and_numeric_usernames_are_read() {
        let parsed = xlsx(&sample()).unwrap();
        assert_eq!(
            parsed.lines,
            vec![
                line(2, 5, "张三", "A班", None),
                line(3, 6, "1001", "夜班", Some("a < b & c")),
                line(5, 8, "lisi", "休", None),
                line(6, 9, "lisi", "A", None),
            ]
        );
        assert_eq!(
            parsed.errors,
            vec![LineError::new(7, "日期 2026-02-30 不存在")]
        );
    }

    #[test]
    fn first_visible_worksheet_is_used() {
        let bytes = workbook(
            &[
                (3, vec![X::S("date"), X::S("user"), X::S("shift")]),
                (4, vec![X::S("2026-01-05"), X::S("a"), X::S("A")]),
            ],
            true,
        );
        assert_eq!(
            xlsx(&bytes).unwrap().lines,
            vec![line(4, 5, "a", "A", None)]
        );
    }

    #[test]
    fn header_problems_are_whole_file_errors() {
        let bytes = workbook(
            &[(1, vec![X::S("date"), X::S("user")]), (2, vec![X::S("x")])],
            false,
        );
        assert_eq!(
            xlsx(&bytes).unwrap_err().message,
            "缺少必需的列：班次（shift）"
        );
        let bytes = workbook(
            &[(1, vec![X::S("date"), X::S("user"), X::S("shift")])],
            false,
        );
        assert_eq!(
            xlsx(&bytes).unwrap_err().message,
            "文件只有表头，没有排班数据"
        );
        let bytes = workbook(&[], false);
        assert_eq!(xlsx(&bytes).unwrap_err().message, "文件是空的");
    }

    #[test]
    fn truncated_workbook_is_reported_as_damaged() {
        let bytes = sample();
        for length in [
            4,
            30,
            100,
            bytes.len() / 2,
            bytes.len() - 30,
            bytes.len() - 1,
        ] {
            assert_eq!(
                xlsx(&bytes[..length]).unwrap_err().message,
                DAMAGED,
                "cut at {length} of {}",
                bytes.len()
            );
        }
    }

    #[test]
    fn other_files_are_named() {
        assert_eq!(
            xlsx(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0")
                .unwrap_err()
                .message,
            "这是 Excel 97-2003（.xls）文件或加了密码的 Excel 文件，请在 Excel 中另存为不加密的 .xlsx 后再导入"
        );
        assert_eq!(
            xlsx(b"\x89PNG\r\n\x1a\n\0\0").unwrap_err().message,
            "不是 XLSX 文件（看起来是 PNG 图片）"
        );
        assert_eq!(
            xlsx("日期,用户名,班次\n".as_bytes()).unwrap_err().message,
            "不是 XLSX 文件（看起来是文本文件，CSV 请按 CSV 格式导入）"
        );
        assert_eq!(
            xlsx(b"\x01\x02\x03\xFF\0").unwrap_err().message,
            "不是 XLSX 文件"
        );

        let mut other_zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        other_zip
            .start_file("readme.txt", SimpleFileOptions::default())
            .unwrap();
        other_zip.write_all(b"hello").unwrap();
        let other_zip = other_zip.finish().unwrap().into_inner();
        assert_eq!(
            xlsx(&other_zip).unwrap_err().message,
            "这个 ZIP 文件不是 Excel 工作簿（XLSX）"
        );
    }

    #[test]
    fn a_row_with_too_many_cells_is_refused() {
        let wide: Vec<X<'_>> = (0..300).map(|_| X::S("x")).collect();
        let bytes = workbook(
            &[
                (1, vec![X::S("date"), X::S("user"), X::S("shift")]),
                (2, wide),
            ],
            false,
        );
        assert_eq!(
            xlsx(&bytes).unwrap_err().message,
            "第 2 行有超过 256 个单元格，不像是排班表"
        );
    }

    const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const HEADER: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>date</t></is></c><c r="B1" t="inlineStr"><is><t>user</t></is></c><c r="C1" t="inlineStr"><is><t>shift</t></is></c></row>"#;

    fn with_shared(sst: &str) -> Result<ParsedFile, FileError> {
        let started = std::time::Instant::now();
        let result = xlsx(&xlsx_with(HEADER, Some(sst)));
        eprintln!("shared strings probe refused in {:?}", started.elapsed());
        result
    }

    #[test]
    fn a_declared_shared_string_count_beyond_the_bound_is_refused_before_calamine_reserves_it() {
        let refused = "XLSX 文件的共享字符串超过 500000 个，不像是排班表";
        for count in [
            "10000000000000",
            "000000000000000010000000000000",
            "500001",
            "99999999999999999999999999",
        ] {
            let sst = format!(
                r#"<sst xmlns="{MAIN_NS}" count="1" uniqueCount="{count}"><si><t>x</t></si></sst>"#
            );
            assert_eq!(with_shared(&sst).unwrap_err().message, refused, "{count}");
        }
        let sst = format!(
            r#"<sst xmlns="{MAIN_NS}" count="10000000000000" uniqueCount="1"><si><t>x</t></si></sst>"#
        );
        assert_eq!(with_shared(&sst).unwrap_err().message, refused);
        // Self-closing, single-quoted, spaced: calamine reads these too.
        let sst = format!(r#"<sst xmlns="{MAIN_NS}" uniqueCount = '10000000000000'/>"#);
        assert_eq!(with_shared(&sst).unwrap_err().message, refused);
        let sst = format!(r#"<sst xmlns="{MAIN_NS}" uniqueCount="1e13"><si><t>x</t></si></sst>"#);
        assert_eq!(with_shared(&sst).unwrap_err().message, DAMAGED);
        // A real count is fine.
        let sst =
            format!(r#"<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>x</t></si></sst>"#);
        assert_eq!(
            with_shared(&sst).unwrap_err().message,
            "文件只有表头，没有排班数据"
        );
    }

    #[test]
    fn more_shared_strings_than_the_bound_are_refused() {
        let sst = format!(
            r#"<sst xmlns="{MAIN_NS}">{}</sst>"#,
            "<si/>".repeat(500_001)
        );
        assert_eq!(
            with_shared(&sst).unwrap_err().message,
            "XLSX 文件的共享字符串超过 500000 个，不像是排班表"
        );
    }

    #[test]
    fn a_part_that_inflates_beyond_the_bound_is_refused() {
        let bomb = vec![b' '; 41 * 1024 * 1024];
        let sheet = tiny_xlsx();
        let mut archive = zip::ZipArchive::new(Cursor::new(&sheet[..])).unwrap();
        let mut parts: Vec<(String, Vec<u8>)> = (0..archive.len())
            .map(|index| {
                let mut part = archive.by_index(index).unwrap();
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut part, &mut content).unwrap();
                (part.name().unwrap().into_owned(), content)
            })
            .collect();
        parts.push(("xl/media/image1.png".to_owned(), bomb));
        let borrowed: Vec<(&str, &[u8])> =
            parts.iter().map(|(n, c)| (n.as_str(), &c[..])).collect();
        let bytes = zip_of(&borrowed);
        assert!(bytes.len() < 1024 * 1024, "{}", bytes.len());
        let started = std::time::Instant::now();
        assert_eq!(
            xlsx(&bytes).unwrap_err().message,
            "XLSX 文件中的部件 xl/media/image1.png 解压后超过 40 MiB，不像是排班表"
        );
        eprintln!("zip bomb part refused in {:?}", started.elapsed());

        // Two parts under the part bound, over the archive bound together.
        let half = vec![b' '; 30 * 1024 * 1024];
        let bytes = zip_of(&[("a.xml", &half[..]), ("b.xml", &half[..])]);
        assert_eq!(
            xlsx(&bytes).unwrap_err().message,
            "XLSX 文件解压后超过 50 MiB，不像是排班表"
        );
    }

    #[test]
    fn too_many_parts_are_refused() {
        let names: Vec<String> = (0..=MAX_ZIP_ENTRIES).map(|i| format!("p{i}.xml")).collect();
        let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        assert_eq!(
            xlsx(&zip_of(&parts)).unwrap_err().message,
            "XLSX 文件包含超过 1000 个部件，不像是排班表"
        );
    }

    #[test]
    fn cells_at_both_ends_of_the_grid_cost_nothing() {
        let sheet = format!(
            r#"{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t>2026-01-05</t></is></c><c r="B2" t="inlineStr"><is><t>a</t></is></c><c r="C2" t="inlineStr"><is><t>A</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#
        );
        let bytes = xlsx_with(&sheet, None);
        let parsed = xlsx(&bytes).unwrap();
        assert_eq!(parsed.lines, vec![line(2, 5, "a", "A", None)]);
        assert_eq!(
            parsed.errors,
            vec![LineError::new(
                1_048_576,
                "第 16384 列没有列名，却有内容 x；日期为空；用户名为空；班次为空"
            )]
        );
    }

    #[test]
    fn positions_outside_the_grid_are_refused() {
        for (sheet, shown) in [
            (
                r#"<row r="1"><c r="ZZZZZZZZ1"><v>1</v></c></row>"#,
                "ZZZZZZZZ1",
            ),
            (r#"<row r="1"><c r="XFE1"><v>1</v></c></row>"#, "XFE1"),
            (
                r#"<row r="99999999999"><c><v>1</v></c></row>"#,
                "99999999999",
            ),
            (
                r#"<row r="1"><c r="A1048577"><v>1</v></c></row>"#,
                "A1048577",
            ),
        ] {
            assert_eq!(
                xlsx(&xlsx_with(sheet, None)).unwrap_err().message,
                format!("XLSX 文件中的单元格位置 {shown} 超出 Excel 的范围（XFD1048576）")
            );
        }
    }

    #[test]
    fn too_many_cells_or_rows_blank_ones_included_are_refused() {
        let cells = format!(r#"<row r="1">{}</row>"#, "<c/>".repeat(MAX_SHEET_CELLS + 1));
        assert_eq!(
            xlsx(&xlsx_with(&cells, None)).unwrap_err().message,
            "工作表的单元格超过 1000000 个（含空白单元格），不像是排班表"
        );
        let rows = "<row/>".repeat(MAX_SHEET_ROWS + 1);
        assert_eq!(
            xlsx(&xlsx_with(&rows, None)).unwrap_err().message,
            "工作表超过 200000 行（含空白行），不像是排班表"
        );
    }

    #[test]
    fn an_overlong_cell_is_refused() {
        let long = "班".repeat(MAX_CELL_BYTES / 3 + 1);
        let sheet = format!(
            r#"{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t>{long}</t></is></c></row>"#
        );
        assert_eq!(
            xlsx(&xlsx_with(&sheet, None)).unwrap_err().message,
            "XLSX 文件中有单元格超过 128 KiB，不像是排班表"
        );
    }

    #[test]
    fn large_junk_is_refused_quickly() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut junk: Vec<u8> = (0..10 * 1024 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        assert_eq!(xlsx(&junk).unwrap_err().message, "不是 XLSX 文件");
        // Starts like a ZIP but is junk after the signature.
        junk[..4].copy_from_slice(b"PK\x03\x04");
        assert_eq!(xlsx(&junk).unwrap_err().message, DAMAGED);
    }
}
