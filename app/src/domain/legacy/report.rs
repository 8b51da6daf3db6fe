//! What an import did (or, in a dry run, would do): counts per table and every conflict.

use std::fmt::Write as _;

/// What happens to one legacy row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Written as a new row here.
    New,
    /// An existing row here takes the legacy values.
    Updated,
    /// An existing row here already holds the legacy values (a repeated import).
    Unchanged,
    /// Not imported; a `Conflict` (or a summary line) says why.
    Skipped,
}

impl Action {
    pub fn writes(self) -> bool {
        matches!(self, Self::New | Self::Updated)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn add(&mut self, action: Action) {
        match action {
            Action::New => self.new += 1,
            Action::Updated => self.updated += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Skipped => self.skipped += 1,
        }
    }

    pub fn changes(&self) -> usize {
        self.new + self.updated
    }
}

/// Something the user should know about one row: a dropped duplicate, a skipped value, a
/// value that was adjusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub table: &'static str,
    pub row: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub users: Counts,
    pub shifts: Counts,
    pub schedules: Counts,
    pub settings: Counts,
    pub logs: Counts,
    pub conflicts: Vec<Conflict>,
    /// Tables of the legacy file that were not read, with the reason.
    pub left_behind: Vec<String>,
}

impl Report {
    pub fn conflict(&mut self, table: &'static str, row: Option<i64>, message: impl Into<String>) {
        self.conflicts.push(Conflict {
            table,
            row,
            message: message.into(),
        });
    }

    /// Rows written (new or updated) over all tables; zero for a repeated import.
    pub fn changes(&self) -> usize {
        self.tables()
            .iter()
            .map(|(_, counts)| counts.changes())
            .sum()
    }

    fn tables(&self) -> [(&'static str, &Counts); 5] {
        [
            ("users 用户", &self.users),
            ("shift_types 班次", &self.shifts),
            ("schedules 排班", &self.schedules),
            ("system_configs 设置", &self.settings),
            ("system_logs 日志", &self.logs),
        ]
    }

    /// The summary the command prints, the same for a dry run and a real one.
    pub fn render(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            if dry_run {
                "旧系统数据导入（试运行，未写入任何数据）/ legacy import, dry run: nothing was written"
            } else {
                "旧系统数据导入 / legacy import"
            }
        );
        let _ = writeln!(
            out,
            "  {:<22}{:>6}{:>9}{:>11}{:>9}",
            "", "new", "updated", "unchanged", "skipped"
        );
        for (name, counts) in self.tables() {
            // Width by characters, not bytes: the labels are half Chinese.
            let padding = 22usize.saturating_sub(display_width(name));
            let _ = writeln!(
                out,
                "  {name}{}{:>6}{:>9}{:>11}{:>9}",
                " ".repeat(padding),
                counts.new,
                counts.updated,
                counts.unchanged,
                counts.skipped
            );
        }
        if self.conflicts.is_empty() {
            let _ = writeln!(out, "conflicts: none");
        } else {
            let _ = writeln!(out, "conflicts and notes ({}):", self.conflicts.len());
            for conflict in &self.conflicts {
                let place = match conflict.row {
                    Some(row) => format!("{} row id {row}", conflict.table),
                    None => conflict.table.to_owned(),
                };
                let _ = writeln!(out, "  - {place}: {}", conflict.message);
            }
        }
        for table in &self.left_behind {
            let _ = writeln!(out, "not imported: {table}");
        }
        let changes = self.changes();
        let _ = writeln!(
            out,
            "{}",
            match (changes, dry_run) {
                (0, _) =>
                    "没有需要导入的变化 / nothing to change: everything is already here".to_owned(),
                (n, true) => format!(
                    "{n} row(s) would be written; run again without --dry-run to import them"
                ),
                (n, false) => format!("{n} row(s) written in one transaction"),
            }
        );
        out
    }
}

/// Columns a terminal gives a string: CJK characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_shows_counts_conflicts_and_what_was_left_behind() {
        let mut report = Report::default();
        report.users.add(Action::New);
        report.users.add(Action::New);
        report.shifts.add(Action::Unchanged);
        report.schedules.add(Action::Skipped);
        report.conflict("schedules", Some(4), "duplicate of row id 5");
        report
            .left_behind
            .push("attendance_records (punch records)".to_owned());
        let dry = report.render(true);
        assert!(dry.contains("dry run: nothing was written"), "{dry}");
        assert!(
            dry.contains("  - schedules row id 4: duplicate of row id 5"),
            "{dry}"
        );
        assert!(dry.contains("not imported: attendance_records"), "{dry}");
        assert!(dry.contains("2 row(s) would be written"), "{dry}");
        let users = dry
            .lines()
            .find(|line| line.contains("users 用户"))
            .expect("users line");
        assert_eq!(
            users.split_whitespace().skip(2).collect::<Vec<_>>(),
            ["2", "0", "0", "0"]
        );
        assert!(report.render(false).contains("2 row(s) written"));
    }

    #[test]
    fn a_repeated_import_says_nothing_changes() {
        let mut report = Report::default();
        report.users.add(Action::Unchanged);
        assert_eq!(report.changes(), 0);
        assert!(report.render(false).contains("nothing to change"));
        assert!(report.render(false).contains("conflicts: none"));
    }
}
