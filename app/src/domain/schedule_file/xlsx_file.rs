//! XLSX workbooks: the first visible worksheet, read cell by cell (never the whole sheet
//! as a grid, so a sheet claiming a huge dimension costs nothing) and stopped after
//! `MAX_ROWS` rows. Dates may be real date cells or text; numbers are read as text where
//! text is expected (an account `1001`).

use std::io::Cursor;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use chrono::NaiveDate;

use super::table::{Cell, Table};
use super::{FileError, ParsedFile, describe_binary};

/// A schedule has four columns; a row with hundreds of filled cells is not one, and the
/// cap bounds memory for a crafted sheet.
const MAX_CELLS_PER_ROW: usize = 256;
const DAMAGED: &str = "XLSX 文件已损坏或不完整，无法读取；请在 Excel 中重新保存后再导入";

pub(super) fn parse(bytes: &[u8]) -> Result<ParsedFile, FileError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(not_xlsx(bytes));
    }
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(damaged)?;
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
        let next = reader.next_cell().map_err(damaged)?;
        let next_row = next.as_ref().map(|cell| cell.get_position().0);
        if let Some(current) = row.filter(|current| Some(*current) != next_row) {
            let line = usize::try_from(current)
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            table.push(line, std::mem::take(&mut cells))?;
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
                    u64::from(at_row) + 1
                )));
            }
            cells.push((usize::try_from(column).unwrap_or(usize::MAX), value));
        }
    }
    table.finish()
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
        XlsxError::Password => FileError::new("XLSX 文件设置了密码，请在 Excel 中取消密码后再导入"),
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

    use super::super::{FileFormat, LineError, parse as parse_file};
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
