//! The pure halves of "has this person already punched?" (打卡检测): the request bodies
//! and the reading of the answers, for the original's Kingsoft Docs AirScript task, a
//! generic JSON endpoint and DingTalk's attendance API. The caller does the HTTP and
//! decides what a failed check means (the original sends the reminder anyway).

use std::fmt;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckMode {
    Off,
    #[serde(rename = "airscript")]
    AirScript,
    GenericJson,
    #[serde(rename = "dingtalk")]
    DingTalk,
    /// Punches recorded in this system.
    Local,
}

impl CheckMode {
    pub const ALL: [Self; 5] = [
        Self::Off,
        Self::AirScript,
        Self::GenericJson,
        Self::DingTalk,
        Self::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::AirScript => "airscript",
            Self::GenericJson => "generic_json",
            Self::DingTalk => "dingtalk",
            Self::Local => "local",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "不检查",
            Self::AirScript => "金山文档 AirScript（原版）",
            Self::GenericJson => "通用 JSON 接口",
            Self::DingTalk => "钉钉考勤 API",
            Self::Local => "本系统打卡记录",
        }
    }
}

impl fmt::Display for CheckMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check answer that cannot be read. Each message quotes the start of the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("检查接口返回的不是 JSON：{body}")]
    NotJson { body: String },
    /// `expected` names the field and its type, e.g. `字符串 data.result.打卡检测`.
    #[error("检查接口的应答里没有{expected}：{body}")]
    Missing {
        expected: &'static str,
        body: String,
    },
    #[error("钉钉接口返回错误 errcode {code}: {message}")]
    DingTalk { code: i64, message: String },
}

/// The first 200 characters of an answer, for error messages.
fn excerpt(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "（空）".to_owned();
    }
    let mut chars = body.chars();
    let head: String = chars.by_ref().take(200).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

fn parse_json(body: &str) -> Result<Value, CheckError> {
    serde_json::from_str(body).map_err(|_| CheckError::NotJson {
        body: excerpt(body),
    })
}

fn missing(expected: &'static str, body: &str) -> CheckError {
    CheckError::Missing {
        expected,
        body: excerpt(body),
    }
}

/// The AirScript task's argument: `A1` asks about the start of work, `A2` about the end.
pub fn airscript_body(kind_is_clock_in: bool) -> String {
    let cell = if kind_is_clock_in { "A1" } else { "A2" };
    json!({ "Context": { "argv": { "message": cell } } }).to_string()
}

/// Reads `data.result.打卡检测`: only `上班未打卡` / `下班未打卡` mean "not punched yet";
/// any other text means punched (the original's rule).
pub fn parse_airscript(body: &str) -> Result<bool, CheckError> {
    let value = parse_json(body)?;
    let status = value
        .pointer("/data/result/打卡检测")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("字符串 data.result.打卡检测", body))?;
    Ok(!matches!(status.trim(), "上班未打卡" | "下班未打卡"))
}

/// The query string of a generic check: `user`, `mobile` (when known), `date`
/// (`YYYY-MM-DD`) and `kind`.
pub fn generic_query(
    user: &str,
    mobile: Option<&str>,
    date: NaiveDate,
    kind: &str,
) -> Vec<(String, String)> {
    let mut query = vec![("user".to_owned(), user.to_owned())];
    if let Some(mobile) = mobile.map(str::trim).filter(|mobile| !mobile.is_empty()) {
        query.push(("mobile".to_owned(), mobile.to_owned()));
    }
    query.push(("date".to_owned(), date.format("%Y-%m-%d").to_string()));
    query.push(("kind".to_owned(), kind.to_owned()));
    query
}

/// A generic check answers `{"punched": true|false}`; a string or number is refused.
pub fn parse_generic(body: &str) -> Result<bool, CheckError> {
    parse_json(body)?
        .get("punched")
        .and_then(Value::as_bool)
        .ok_or_else(|| missing("布尔值 punched（true 或 false）", body))
}

fn dingtalk_status(value: &Value, body: &str) -> Result<(), CheckError> {
    let code = value
        .get("errcode")
        .and_then(Value::as_i64)
        .ok_or_else(|| missing("数字 errcode", body))?;
    if code != 0 {
        let message = value
            .get("errmsg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Err(CheckError::DingTalk { code, message });
    }
    Ok(())
}

/// Reads `gettoken`'s answer: the access token and its lifetime in seconds.
pub fn parse_token(body: &str) -> Result<(String, u64), CheckError> {
    let value = parse_json(body)?;
    dingtalk_status(&value, body)?;
    let token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| missing("字符串 access_token", body))?;
    let expires_in = value
        .get("expires_in")
        .and_then(Value::as_u64)
        .ok_or_else(|| missing("数字 expires_in", body))?;
    Ok((token.to_owned(), expires_in))
}

/// The body of `attendance/list` for one person's records of one work day.
pub fn attendance_request(user_id: &str, date: NaiveDate) -> String {
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    json!({
        "workDateFrom": format!("{} 00:00:00", date.format("%Y-%m-%d")),
        "workDateTo": format!("{} 00:00:00", next.format("%Y-%m-%d")),
        "userIdList": [user_id],
        "offset": 0,
        "limit": 50,
    })
    .to_string()
}

/// Punched = a record of the asked check type (`OnDuty` / `OffDuty`) whose `timeResult`
/// is not `NotSigned`.
pub fn parse_attendance(body: &str, check_type_on_duty: bool) -> Result<bool, CheckError> {
    let value = parse_json(body)?;
    dingtalk_status(&value, body)?;
    let records = value
        .get("recordresult")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("数组 recordresult", body))?;
    let wanted = if check_type_on_duty {
        "OnDuty"
    } else {
        "OffDuty"
    };
    Ok(records.iter().any(|record| {
        record.get("checkType").and_then(Value::as_str) == Some(wanted)
            && record
                .get("timeResult")
                .and_then(Value::as_str)
                .is_some_and(|result| result != "NotSigned")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_by_name() {
        for mode in CheckMode::ALL {
            assert_eq!(CheckMode::parse(mode.as_str()), Some(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.as_str()));
        }
        assert_eq!(CheckMode::AirScript.as_str(), "airscript");
        assert_eq!(CheckMode::DingTalk.as_str(), "dingtalk");
        assert_eq!(CheckMode::AirScript.label(), "金山文档 AirScript（原版）");
        assert_eq!(CheckMode::parse("air_script"), None);
    }

    #[test]
    fn airscript_asks_for_a1_or_a2() {
        assert_eq!(
            airscript_body(true),
            r#"{"Context":{"argv":{"message":"A1"}}}"#
        );
        assert_eq!(
            airscript_body(false),
            r#"{"Context":{"argv":{"message":"A2"}}}"#
        );
    }

    #[test]
    fn airscript_only_the_two_not_punched_texts_mean_not_punched() {
        let answer = |status: &str| {
            format!(r#"{{"data":{{"result":{{"打卡检测":"{status}"}}}},"status":"finished"}}"#)
        };
        assert!(!parse_airscript(&answer("上班未打卡")).unwrap());
        assert!(!parse_airscript(&answer("下班未打卡")).unwrap());
        assert!(parse_airscript(&answer("上班已打卡")).unwrap());
        assert!(parse_airscript(&answer("")).unwrap());
    }

    #[test]
    fn airscript_errors_name_what_is_missing() {
        let error =
            parse_airscript(r#"{"data":{"result":null},"error":"script timeout"}"#).unwrap_err();
        assert!(matches!(error, CheckError::Missing { .. }));
        assert_eq!(
            error.to_string(),
            r#"检查接口的应答里没有字符串 data.result.打卡检测：{"data":{"result":null},"error":"script timeout"}"#
        );
        assert!(matches!(
            parse_airscript(r#"{"data":{"result":{"打卡检测":1}}}"#),
            Err(CheckError::Missing { .. })
        ));
        let error = parse_airscript("<html>502</html>").unwrap_err();
        assert_eq!(
            error.to_string(),
            "检查接口返回的不是 JSON：<html>502</html>"
        );
        assert_eq!(
            parse_airscript("").unwrap_err().to_string(),
            "检查接口返回的不是 JSON：（空）"
        );
    }

    #[test]
    fn generic_query_names_person_day_and_kind() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let pairs = |query: Vec<(String, String)>| {
            query
                .into_iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(generic_query(
                "zhangsan",
                Some("13800138000"),
                date,
                "clock_in"
            )),
            [
                "user=zhangsan",
                "mobile=13800138000",
                "date=2026-03-02",
                "kind=clock_in"
            ]
        );
        assert_eq!(
            pairs(generic_query("zhangsan", None, date, "clock_out")),
            ["user=zhangsan", "date=2026-03-02", "kind=clock_out"]
        );
        assert_eq!(pairs(generic_query("u", Some(" "), date, "k")).len(), 3);
    }

    #[test]
    fn generic_answer_must_be_a_boolean() {
        assert!(parse_generic(r#"{"punched":true}"#).unwrap());
        assert!(!parse_generic(r#"{"punched":false,"at":null}"#).unwrap());
        for body in [
            r#"{"punched":"true"}"#,
            r#"{"punched":1}"#,
            "{}",
            "[true]",
            "true",
        ] {
            let error = parse_generic(body).unwrap_err();
            assert!(
                error.to_string().contains("布尔值 punched"),
                "{body}: {error}"
            );
        }
        assert!(matches!(
            parse_generic("ok"),
            Err(CheckError::NotJson { .. })
        ));
    }

    #[test]
    fn dingtalk_token_and_its_errors() {
        assert_eq!(
            parse_token(
                r#"{"errcode":0,"access_token":"96fc7a7axxx","errmsg":"ok","expires_in":7200}"#
            )
            .unwrap(),
            ("96fc7a7axxx".to_owned(), 7200)
        );
        assert_eq!(
            parse_token(r#"{"errcode":40089,"errmsg":"不合法的corpid或corpsecret"}"#).unwrap_err(),
            CheckError::DingTalk {
                code: 40089,
                message: "不合法的corpid或corpsecret".into()
            }
        );
        assert_eq!(
            parse_token(r#"{"errcode":40089,"errmsg":"invalid appkey"}"#)
                .unwrap_err()
                .to_string(),
            "钉钉接口返回错误 errcode 40089: invalid appkey"
        );
        assert!(matches!(
            parse_token(r#"{"errcode":0,"expires_in":7200}"#),
            Err(CheckError::Missing {
                expected: "字符串 access_token",
                ..
            })
        ));
        assert!(matches!(
            parse_token(r#"{"access_token":"t"}"#),
            Err(CheckError::Missing {
                expected: "数字 errcode",
                ..
            })
        ));
    }

    #[test]
    fn attendance_request_covers_the_work_day() {
        let body: Value = serde_json::from_str(&attendance_request(
            "manager4220",
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({
                "workDateFrom": "2025-12-31 00:00:00",
                "workDateTo": "2026-01-01 00:00:00",
                "userIdList": ["manager4220"],
                "offset": 0,
                "limit": 50,
            })
        );
    }

    fn attendance(records: &[(&str, &str)]) -> String {
        let records: Vec<Value> = records
            .iter()
            .map(|(check_type, time_result)| {
                json!({
                    "userId": "manager4220",
                    "checkType": check_type,
                    "timeResult": time_result,
                    "userCheckTime": 1_772_412_000_000_i64,
                    "baseCheckTime": 1_772_413_200_000_i64,
                    "workDate": 1_772_380_800_000_i64,
                })
            })
            .collect();
        json!({ "errcode": 0, "errmsg": "ok", "hasMore": false, "recordresult": records })
            .to_string()
    }

    #[test]
    fn attendance_punched_means_a_signed_record_of_that_check_type() {
        let on_late = attendance(&[("OnDuty", "Late"), ("OffDuty", "NotSigned")]);
        assert!(parse_attendance(&on_late, true).unwrap());
        assert!(!parse_attendance(&on_late, false).unwrap());
        let none = attendance(&[]);
        assert!(!parse_attendance(&none, true).unwrap());
        for result in ["Normal", "Early", "Late", "SeriousLate", "Absenteeism"] {
            assert!(parse_attendance(&attendance(&[("OffDuty", result)]), false).unwrap());
        }
        assert!(!parse_attendance(&attendance(&[("OnDuty", "NotSigned")]), true).unwrap());
    }

    #[test]
    fn attendance_errors_are_reported() {
        assert_eq!(
            parse_attendance(r#"{"errcode":88,"errmsg":"access_token is blank"}"#, true)
                .unwrap_err(),
            CheckError::DingTalk {
                code: 88,
                message: "access_token is blank".into()
            }
        );
        assert!(matches!(
            parse_attendance(r#"{"errcode":0,"errmsg":"ok"}"#, true),
            Err(CheckError::Missing {
                expected: "数组 recordresult",
                ..
            })
        ));
        assert!(matches!(
            parse_attendance("gateway timeout", false),
            Err(CheckError::NotJson { .. })
        ));
    }
}
