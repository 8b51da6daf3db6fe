//! Pieces the reminder pages share: how times, kinds, statuses and robot answers are shown.

use leptos::prelude::*;

use crate::domain::channel::ChannelKind;
use crate::domain::reminder::ReminderKind;
use crate::wire::ChannelTestResult;

/// Delivery states with their labels, in the order the filter lists them.
pub const DELIVERY_STATUSES: [(&str, &str); 7] = [
    ("pending", "等待发送"),
    ("sending", "发送中"),
    ("sent", "已发送"),
    ("skipped", "已打卡，未提醒"),
    ("missed", "已错过"),
    ("failed", "发送失败"),
    ("disabled", "提醒已关闭"),
];

/// States an admin may send again.
pub fn retryable(status: &str) -> bool {
    matches!(status, "failed" | "missed" | "disabled")
}

/// The badge colour of a delivery state.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "sent" => "badge ok",
        "skipped" => "badge info",
        "pending" | "sending" => "badge pending",
        "failed" | "missed" => "badge error",
        _ => "badge off",
    }
}

/// "上班" / "下班" for `clock_in` / `clock_out`.
pub fn kind_label(kind: &str) -> &'static str {
    ReminderKind::parse(kind).map_or("—", ReminderKind::label)
}

/// "上班" or "下班 · 第2次再提醒".
pub fn kind_text(kind: &str, sequence: u8) -> String {
    if sequence > 0 {
        format!("{} · 第{sequence}次再提醒", kind_label(kind))
    } else {
        kind_label(kind).to_owned()
    }
}

/// A channel kind's label, from the registry the server uses too.
pub fn platform_label(kind: &str) -> &'static str {
    ChannelKind::parse(kind).map_or("未知", ChannelKind::label)
}

/// `HH:MM` of an RFC 3339 time that already carries the server's offset.
pub fn hhmm(at: &str) -> String {
    at.get(11..16).unwrap_or(at).to_owned()
}

/// `MM-DD`: the local day a reminder fires (RFC 3339 with the server's offset), which for
/// a shift starting at midnight is the evening before the shift's date.
pub fn month_day(at: &str) -> String {
    at.get(5..10).unwrap_or(at).to_owned()
}

/// Whether a reminder fires on its shift's date (not the evening before a midnight start,
/// nor the morning after an overnight shift).
pub fn fires_on(at: &str, shift_date: chrono::NaiveDate) -> bool {
    at.get(..10) == Some(shift_date.format("%Y-%m-%d").to_string().as_str())
}

/// `YYYY-MM-DD HH:MM:SS` of an RFC 3339 time with the server's offset.
pub fn local_datetime(at: &str) -> String {
    at.get(..19)
        .map_or_else(|| at.to_owned(), |t| t.replace('T', " "))
}

/// "迟 12 秒", "迟 3 分 5 秒", "准时", "早 4 秒".
pub fn lateness_text(secs: i64) -> String {
    let (word, secs) = if secs < 0 {
        ("早", -secs)
    } else {
        ("迟", secs)
    };
    match secs {
        0 => "准时".to_owned(),
        1..60 => format!("{word} {secs} 秒"),
        60..3600 if secs % 60 == 0 => format!("{word} {} 分", secs / 60),
        60..3600 => format!("{word} {} 分 {} 秒", secs / 60, secs % 60),
        _ => format!("{word} {} 小时 {} 分", secs / 3600, secs % 3600 / 60),
    }
}

/// At most `max` characters, with "…" when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        text.chars().take(max).chain(['…']).collect()
    }
}

/// What a robot answered to a test message.
#[component]
pub fn TestResult(result: ChannelTestResult, #[prop(into)] testid: String) -> impl IntoView {
    let verdict = match result.verdict.as_str() {
        "accepted" => "已接受",
        "retryable" => "暂时失败（可重试）",
        "permanent" => "被拒绝",
        "network" => "无法连接",
        other => other,
    }
    .to_owned();
    view! {
        <div
            class="test-result"
            class:ok=result.ok
            data-testid=testid
            data-ok=result.ok.to_string()
            data-verdict=result.verdict.clone()
            role="status"
        >
            <p>
                {if result.ok {
                    view! { <span class="badge ok">"成功"</span> }.into_any()
                } else {
                    view! { <span class="badge error">"失败"</span> }.into_any()
                }}
                " " {verdict}
                {result.http_status.map(|status| view! { <span class="muted">{format!(" · HTTP {status}")}</span> })}
            </p>
            <p class="test-message">{result.message.clone()}</p>
            {(!result.answer.is_empty()).then(|| view! { <pre class="answer">{result.answer.clone()}</pre> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_reminder_is_shown_on_the_day_it_fires() {
        // Clock-in 15 minutes before a shift that starts at midnight on 12-04.
        assert_eq!(month_day("2026-12-03T23:45:00+08:00"), "12-03");
        assert!(!fires_on("2026-12-03T23:45:00+08:00", date("2026-12-04")));
        // Clock-out of an overnight shift the next morning.
        assert!(!fires_on("2026-12-05T06:10:00+08:00", date("2026-12-04")));
        assert!(fires_on("2026-12-04T08:50:00+08:00", date("2026-12-04")));
        assert_eq!(month_day("garbage"), "garbage");
        assert!(!fires_on("garbage", date("2026-12-04")));
    }
}
