//! Keeping secrets out of text that is stored, shown or logged. Robot tokens travel in URLs
//! (DingTalk `access_token`, WeCom `key`, the Feishu hook id in the path) and the DingTalk
//! attendance check sends `appsecret`; any error or answer text that quotes a URL would
//! carry them into delivery history, the channel test and the logs.

/// Query parameters and JSON fields whose values are credentials.
const SECRET_NAMES: [&str; 12] = [
    "access_token",
    "accesstoken",
    "appsecret",
    "app_secret",
    "corpsecret",
    "secret",
    "key",
    "sign",
    "signature",
    "token",
    "password",
    "tenant_access_token",
];

/// Values shorter than this are not redacted by value: replacing every "1" in a text
/// would hide the message without protecting anything a guess would not find.
const MIN_SECRET_CHARS: usize = 6;

/// Path segments longer than this are treated as tokens (the Feishu hook id, generic
/// webhook paths like Slack's) and shortened when a URL is shown.
const PATH_SEGMENT_SHOWN_CHARS: usize = 16;

pub const MASK: &str = "***";

/// A URL as it may be shown to an admin or written to a log: scheme, host, port and path
/// with long segments cut to their first four characters, each query value replaced by
/// `***`, no user info and no fragment. Anything that is not `scheme://…` is masked whole
/// except its first four characters.
pub fn mask_url(raw: &str) -> String {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("://") else {
        return mask_value(raw);
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    {
        return mask_value(raw);
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let path: Vec<String> = path
        .split('/')
        .map(|segment| {
            if segment.chars().count() > PATH_SEGMENT_SHOWN_CHARS {
                format!("{}…", segment.chars().take(4).collect::<String>())
            } else {
                segment.to_owned()
            }
        })
        .collect();
    let mut shown = format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        host,
        path.join("/")
    );
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                format!("{}={MASK}", short_name(name))
            })
            .collect();
        shown.push('?');
        shown.push_str(&pairs.join("&"));
    }
    shown
}

/// A query parameter name as shown; names are not secret, but an absurdly long one is cut.
fn short_name(name: &str) -> String {
    if name.chars().count() > 32 {
        format!("{}…", name.chars().take(32).collect::<String>())
    } else {
        name.to_owned()
    }
}

/// A secret value as shown: its first four characters (enough to tell two apart).
fn mask_value(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    if value.chars().count() > 4 {
        format!("{head}{MASK}")
    } else {
        MASK.to_owned()
    }
}

/// The secrets of one request, to be removed by value from any text about it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
}

/// Never prints the values it guards.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every query value and every long path segment of `url`.
    pub fn with_url(mut self, url: &str) -> Self {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let rest = rest.split('#').next().unwrap_or_default();
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, query),
            None => (rest, ""),
        };
        for segment in before_query.split('/').skip(1) {
            // A credential's name in an API path (`…/tenant_access_token/internal`) is a
            // word of the API, not a token: hiding it would hide the field in the answer.
            let api_word = SECRET_NAMES.contains(&segment);
            if segment.chars().count() > PATH_SEGMENT_SHOWN_CHARS && !api_word {
                self = self.with(segment);
            }
        }
        if let Some((user_info, _)) = before_query
            .split('/')
            .next()
            .and_then(|a| a.rsplit_once('@'))
        {
            self = self.with(user_info);
        }
        for pair in query.split('&') {
            if let Some((_, value)) = pair.split_once('=') {
                self = self.with(value);
            }
        }
        self
    }

    /// One more secret value (ignored when too short to redact by value).
    pub fn with(mut self, value: &str) -> Self {
        let value = value.trim();
        if value.chars().count() < MIN_SECRET_CHARS {
            return self;
        }
        // As typed, percent-decoded and percent-encoded: a URL may carry either form.
        for form in [
            value.to_owned(),
            percent_decode(value),
            percent_encode(value),
        ] {
            if form.chars().count() >= MIN_SECRET_CHARS && !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        // Longest first, so a value containing another is replaced whole.
        self.values
            .sort_by_key(|value| std::cmp::Reverse(value.len()));
        self
    }

    /// `text` with every known secret value and every credential-named parameter replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        redact_named(&out)
    }

    /// Only the known values; for answers that must still be parsed afterwards (a token
    /// endpoint's answer holds a fresh `access_token` that `redact` would hide).
    pub fn redact_values(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        out
    }
}

/// Replaces the value of every credential-named query parameter (`access_token=…`) and JSON
/// field (`"access_token":"…"`) in free text with `***`, whatever the value is.
pub fn redact_named(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // (start, end) byte ranges of values to hide; `lower` has the same byte offsets.
    let mut hidden: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name) {
            let start = from + found;
            let end = start + name.len();
            from = end;
            let before = start.checked_sub(1).map(|i| bytes[i]);
            // `"name"` in JSON or `name` after `?`, `&`, a space or the start.
            let quoted = before == Some(b'"') && bytes.get(end) == Some(&b'"');
            let bounded = !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !bounded && !quoted {
                continue;
            }
            let mut cursor = if quoted { end + 1 } else { end };
            if quoted {
                while bytes.get(cursor).is_some_and(u8::is_ascii_whitespace) {
                    cursor += 1;
                }
                if bytes.get(cursor) != Some(&b':') {
                    continue;
                }
                cursor += 1;
                while bytes.get(cursor).is_some_and(u8::is_ascii_whitespace) {
                    cursor += 1;
                }
                if bytes.get(cursor) != Some(&b'"') {
                    continue;
                }
                cursor += 1;
                let value_end = lower[cursor..]
                    .find('"')
                    .map_or(lower.len(), |at| cursor + at);
                if value_end > cursor {
                    hidden.push((cursor, value_end));
                }
            } else {
                if bytes.get(cursor) != Some(&b'=') {
                    continue;
                }
                cursor += 1;
                let value_end = lower[cursor..]
                    .find(|c: char| {
                        matches!(c, '&' | '#' | '"' | '\'' | '<' | '>' | ')' | ',' | ';')
                            || c.is_whitespace()
                    })
                    .map_or(lower.len(), |at| cursor + at);
                if value_end > cursor {
                    hidden.push((cursor, value_end));
                }
            }
        }
    }
    if hidden.is_empty() {
        return text.to_owned();
    }
    hidden.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in hidden {
        if start < at {
            // Overlaps a range already hidden (e.g. `sign` inside `signature`).
            at = at.max(end);
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                index += 1;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_keep_scheme_host_and_path_but_no_credentials() {
        assert_eq!(
            mask_url("https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"),
            "https://oapi.dingtalk.com/robot/send?access_token=***"
        );
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx#frag"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
        );
        assert_eq!(
            mask_url(
                "https://open.feishu.cn/open-apis/bot/v2/hook/2c5b7a0e-0f2b-4b9b-8a31-6b3c0d1e2f3a"
            ),
            "https://open.feishu.cn/open-apis/bot/v2/hook/2c5b…"
        );
        assert_eq!(
            mask_url("http://user:pw@127.0.0.1:8080/hook/x?a=1&sign=abc"),
            "http://127.0.0.1:8080/hook/x?a=***&sign=***"
        );
        assert_eq!(mask_url("SECabcdefgh"), "SECa***");
        assert_eq!(mask_url("abc"), "***");
        assert_eq!(mask_url("javascript:alert(1)"), "java***");
    }

    #[test]
    fn a_credential_s_name_in_an_api_path_is_not_a_secret() {
        let secrets = Secrets::new()
            .with_url("https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal");
        let answer = r#"{"code":0,"tenant_access_token":"t-0123456789","expire":7200}"#;
        assert_eq!(secrets.redact_values(answer), answer);
    }

    #[test]
    fn known_values_are_removed_in_every_encoding() {
        let secrets = Secrets::new()
            .with_url("https://h.example/open-apis/bot/v2/hook/HOOKID-0123456789abcdef?access_token=TOKEN+VALUE/1&x=1")
            .with("SECsecretvalue");
        let text = "GET https://h.example/open-apis/bot/v2/hook/HOOKID-0123456789abcdef?access_token=TOKEN%2BVALUE%2F1 \
                    failed; token TOKEN VALUE/1; SECsecretvalue; 1 stays";
        let redacted = secrets.redact(text);
        for leaked in ["HOOKID-0123456789abcdef", "TOKEN", "SECsecretvalue"] {
            assert!(!redacted.contains(leaked), "{redacted}");
        }
        assert!(redacted.ends_with("1 stays"), "{redacted}");
        assert!(!format!("{secrets:?}").contains("SECsecretvalue"));
    }

    #[test]
    fn credential_named_parameters_are_hidden_whatever_their_value() {
        assert_eq!(
            redact_named(
                "error sending request for url (https://x/gettoken?appkey=k&appsecret=S3cr3t&y=2)"
            ),
            "error sending request for url (https://x/gettoken?appkey=k&appsecret=***&y=2)"
        );
        assert_eq!(
            redact_named(r#"{"errcode":0,"access_token": "abc","expires_in":7200}"#),
            r#"{"errcode":0,"access_token": "***","expires_in":7200}"#
        );
        assert_eq!(
            redact_named("ACCESS_TOKEN=abc&Sign=x%2B&timestamp=1"),
            "ACCESS_TOKEN=***&Sign=***&timestamp=1"
        );
        // Words that merely contain a name are left alone.
        assert_eq!(
            redact_named("monkey=1 keyword=2 tokens"),
            "monkey=1 keyword=2 tokens"
        );
        assert_eq!(redact_named("密钥 key"), "密钥 key");
        assert_eq!(redact_named("signature=abc"), "signature=***");
    }
}
