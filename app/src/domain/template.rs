//! Reminder message templates (提醒模板): plain text with `{name} {shift} {date} {start}
//! {end} {minutes}` placeholders and `{{` / `}}` for literal braces. A template is checked
//! once when the admin saves it, so a typo such as `{nmae}` is refused with a message that
//! names it instead of reaching the group verbatim.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const TEMPLATE_MAX_CHARS: usize = 500;

/// The placeholders a template may use, in the order the UI lists them.
pub const VARIABLES: [&str; 6] = ["name", "shift", "date", "start", "end", "minutes"];

/// Which reminder a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    ClockIn,
    ClockOut,
    /// Sent again when the check says the clock-in is still missing.
    FollowUpIn,
    FollowUpOut,
}

impl TemplateKind {
    pub const ALL: [Self; 4] = [
        Self::ClockIn,
        Self::ClockOut,
        Self::FollowUpIn,
        Self::FollowUpOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClockIn => "clock_in",
            Self::ClockOut => "clock_out",
            Self::FollowUpIn => "follow_up_in",
            Self::FollowUpOut => "follow_up_out",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ClockIn => "上班提醒",
            Self::ClockOut => "下班提醒",
            Self::FollowUpIn => "上班补充提醒",
            Self::FollowUpOut => "下班补充提醒",
        }
    }

    /// The text used until the admin saves their own; `ClockIn` is the original system's.
    pub fn default_text(self) -> &'static str {
        match self {
            Self::ClockIn => {
                "【上班提醒】{name}，您好！您今天{shift}的上班时间是{start}，请记得按时打卡。"
            }
            Self::ClockOut => {
                "【下班提醒】{name}，您好！您今天{shift}的下班时间是{end}，请记得按时打卡。"
            }
            Self::FollowUpIn => {
                "【上班提醒】{name}，您今天{shift}{start}上班，系统还没有查到您的上班打卡，请尽快打卡。"
            }
            Self::FollowUpOut => {
                "【下班提醒】{name}，您今天{shift}{end}下班，系统还没有查到您的下班打卡，请记得打卡。"
            }
        }
    }

    pub fn default_template(self) -> Template {
        Template(self.default_text().to_owned())
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("模板不能为空")]
    Empty,
    #[error("模板最多 {max} 个字符（当前 {0} 个）", max = TEMPLATE_MAX_CHARS)]
    TooLong(usize),
    /// Holds the placeholder as written, braces included.
    #[error("未知变量 {0}，可用：{{name}} {{shift}} {{date}} {{start}} {{end}} {{minutes}}")]
    UnknownVariable(String),
    /// Holds the text from the unclosed `{` (shortened).
    #[error("“{0}” 缺少右花括号 }}；如果要显示花括号本身，请写 {{{{ 或 }}}}")]
    Unclosed(String),
    /// Holds the text just before the stray `}`.
    #[error("“{0}” 后面多了一个右花括号 }}；如果要显示花括号本身，请写 }}}}")]
    StrayClose(String),
}

/// The values substituted into a template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateVars {
    pub name: String,
    pub shift: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub minutes: u32,
}

/// A checked template: trimmed, non-empty, at most [`TEMPLATE_MAX_CHARS`] characters, and
/// every placeholder known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template(String);

impl Template {
    pub fn parse(raw: &str) -> Result<Self, TemplateError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(TemplateError::Empty);
        }
        let length = value.chars().count();
        if length > TEMPLATE_MAX_CHARS {
            return Err(TemplateError::TooLong(length));
        }
        segments(value, |_| {})?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn render(&self, vars: &TemplateVars) -> String {
        self.render_escaped(vars, str::to_owned)
    }

    /// Like `render`, with every substituted value passed through `escape` first: the
    /// template is the admin's markup, the values (a member's own name, shift names) are
    /// text that must not become markup in the robot's message.
    pub fn render_escaped(&self, vars: &TemplateVars, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.0.len() + 64);
        let minutes = vars.minutes.to_string();
        // Cannot fail: `parse` ran the same scan.
        let _ = segments(&self.0, |segment| match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Variable(name) => out.push_str(&escape(match name {
                "name" => &vars.name,
                "shift" => &vars.shift,
                "date" => &vars.date,
                "start" => &vars.start,
                "end" => &vars.end,
                _ => &minutes,
            })),
        });
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> Self {
        template.0
    }
}

enum Segment<'a> {
    Text(&'a str),
    /// One of [`VARIABLES`].
    Variable(&'a str),
}

/// Splits a template into literal text and known placeholders, in order.
fn segments<'a>(template: &'a str, mut emit: impl FnMut(Segment<'a>)) -> Result<(), TemplateError> {
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        let (text, tail) = rest.split_at(at);
        if !text.is_empty() {
            emit(Segment::Text(text));
        }
        if let Some(after) = tail.strip_prefix("{{") {
            emit(Segment::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            emit(Segment::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            let before = &template[..template.len() - tail.len()];
            return Err(TemplateError::StrayClose(last_chars(before, 10)));
        } else {
            let Some(close) = tail.find('}') else {
                return Err(TemplateError::Unclosed(first_chars(tail, 10)));
            };
            let name = &tail[1..close];
            if !VARIABLES.contains(&name) {
                return Err(TemplateError::UnknownVariable(tail[..=close].to_owned()));
            }
            emit(Segment::Variable(name));
            rest = &tail[close + 1..];
        }
    }
    if !rest.is_empty() {
        emit(Segment::Text(rest));
    }
    Ok(())
}

fn first_chars(text: &str, count: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(count).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn last_chars(text: &str, count: usize) -> String {
    let total = text.chars().count();
    let tail: String = text.chars().skip(total.saturating_sub(count)).collect();
    if total > count {
        format!("…{tail}")
    } else {
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> TemplateVars {
        TemplateVars {
            name: "张三".into(),
            shift: "早班".into(),
            date: "2026-03-02".into(),
            start: "09:00".into(),
            end: "18:00".into(),
            minutes: 15,
        }
    }

    #[test]
    fn every_default_parses_and_names_its_kind() {
        for kind in TemplateKind::ALL {
            let template = Template::parse(kind.default_text()).unwrap();
            assert_eq!(template, kind.default_template());
            assert_eq!(TemplateKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TemplateKind::parse("clock"), None);
        assert_eq!(TemplateKind::FollowUpOut.label(), "下班补充提醒");
    }

    #[test]
    fn clock_in_default_renders_like_the_original() {
        let text = TemplateKind::ClockIn.default_template().render(&vars());
        assert_eq!(
            text,
            "【上班提醒】张三，您好！您今天早班的上班时间是09:00，请记得按时打卡。"
        );
        let text = TemplateKind::FollowUpOut.default_template().render(&vars());
        assert_eq!(
            text,
            "【下班提醒】张三，您今天早班18:00下班，系统还没有查到您的下班打卡，请记得打卡。"
        );
    }

    #[test]
    fn render_substitutes_every_variable_each_time_it_appears() {
        let template =
            Template::parse("{name}/{shift}/{date}/{start}-{end}/{minutes}分钟/{name}").unwrap();
        assert_eq!(
            template.render(&vars()),
            "张三/早班/2026-03-02/09:00-18:00/15分钟/张三"
        );
    }

    #[test]
    fn escaping_applies_to_values_only() {
        let template = Template::parse("**{name}**：{shift}").unwrap();
        let mut vars = vars();
        vars.name = "<b>".into();
        assert_eq!(
            template.render_escaped(&vars, |value| value.replace('<', "&lt;")),
            "**&lt;b>**：早班"
        );
    }

    #[test]
    fn unknown_variable_is_named_in_the_error() {
        let error = Template::parse("{nmae}，该打卡了").unwrap_err();
        assert_eq!(error, TemplateError::UnknownVariable("{nmae}".into()));
        assert_eq!(
            error.to_string(),
            "未知变量 {nmae}，可用：{name} {shift} {date} {start} {end} {minutes}"
        );
        // Placeholders are exact: no spaces, no case folding.
        assert_eq!(
            Template::parse("{ name }").unwrap_err(),
            TemplateError::UnknownVariable("{ name }".into())
        );
        assert_eq!(
            Template::parse("{Name}").unwrap_err(),
            TemplateError::UnknownVariable("{Name}".into())
        );
    }

    #[test]
    fn unclosed_and_stray_braces_are_named_in_the_error() {
        let error = Template::parse("{name}，请在{start 前打卡").unwrap_err();
        assert_eq!(error, TemplateError::Unclosed("{start 前打卡".into()));
        assert!(error.to_string().contains("“{start 前打卡” 缺少右花括号 }"));
        let error = Template::parse("{name} 请打卡}").unwrap_err();
        assert_eq!(error, TemplateError::StrayClose("{name} 请打卡".into()));
        assert!(
            Template::parse("很长很长很长很长很长很长的前缀 {名字和更多更多的文字")
                .unwrap_err()
                .to_string()
                .contains("“{名字和更多更多的文…” 缺少")
        );
    }

    #[test]
    fn doubled_braces_are_literal() {
        let template = Template::parse("{{name}} 是 {name}，JSON：{{\"a\":1}}").unwrap();
        assert_eq!(template.render(&vars()), "{name} 是 张三，JSON：{\"a\":1}");
        assert_eq!(
            Template::parse("{{{name}}}").unwrap().render(&vars()),
            "{张三}"
        );
    }

    #[test]
    fn robot_keyword_can_be_part_of_the_template() {
        let template = Template::parse("考勤 {name} {start} 上班").unwrap();
        let text = template.render(&vars());
        assert!(text.starts_with("考勤 "));
        assert!(text.contains("考勤"));
    }

    #[test]
    fn empty_and_too_long_templates_are_refused() {
        assert_eq!(Template::parse("  \n ").unwrap_err(), TemplateError::Empty);
        let long = "打".repeat(TEMPLATE_MAX_CHARS + 1);
        assert_eq!(
            Template::parse(&long).unwrap_err(),
            TemplateError::TooLong(TEMPLATE_MAX_CHARS + 1)
        );
        assert!(Template::parse(&"打".repeat(TEMPLATE_MAX_CHARS)).is_ok());
        assert_eq!(Template::parse("  {name}  ").unwrap().as_str(), "{name}");
    }

    #[test]
    fn serde_checks_the_template() {
        let template: Template = serde_json::from_str("\"{name} 打卡\"").unwrap();
        assert_eq!(template.as_str(), "{name} 打卡");
        assert!(serde_json::from_str::<Template>("\"{nmae}\"").is_err());
        assert_eq!(
            serde_json::to_string(&TemplateKind::FollowUpIn).unwrap(),
            "\"follow_up_in\""
        );
    }
}
