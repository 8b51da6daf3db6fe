//! Apprise's own plugin test URLs (its `apprise_url_tests` tables, apprise 2.3.0, extracted
//! by `scripts/apprise-fixture.py` into `app/tests/fixtures/apprise_urls.json`) read here:
//! what Apprise accepts should be accepted as the same kind, what it refuses refused.

use serde::Deserialize;

use super::parse;

#[derive(Deserialize)]
struct Case {
    file: String,
    url: String,
    apprise: String,
}

/// Apprise's plugin name → our kind.
fn kind_of(file: &str) -> &'static str {
    match file {
        "wecombot" => "wecom",
        "bark" => "bark",
        "dingtalk" => "dingtalk",
        "email" => "email",
        "feishu" => "feishu",
        "gotify" => "gotify",
        "ntfy" => "ntfy",
        "pushplus" => "pushplus",
        "serverchan" => "serverchan",
        "wxpusher" => "wxpusher",
        other => panic!("no kind for Apprise's {other}"),
    }
}

#[derive(Default)]
struct Tally {
    accepted: usize,
    of_accepted: usize,
    refused: usize,
    of_refused: usize,
    misses: Vec<String>,
}

#[test]
fn apprise_s_own_test_urls_are_read_as_apprise_reads_them() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("../../../tests/fixtures/apprise_urls.json")).unwrap();
    let mut tallies: std::collections::BTreeMap<String, Tally> = Default::default();
    for case in &cases {
        let tally = tallies.entry(case.file.clone()).or_default();
        let parsed = parse(&case.url);
        let ours = parsed
            .as_ref()
            .is_ok_and(|address| address.kind().as_str() == kind_of(&case.file));
        if case.apprise == "accept" {
            tally.of_accepted += 1;
            if ours {
                tally.accepted += 1;
            } else {
                tally.misses.push(format!(
                    "  refused {}: {}",
                    case.url,
                    parsed.map_or_else(|e| e.message, |a| format!("as {}", a.kind()))
                ));
            }
        } else {
            tally.of_refused += 1;
            if parsed.is_err() {
                tally.refused += 1;
            } else {
                tally.misses.push(format!("  accepted {}", case.url));
            }
        }
    }
    let (mut accepted, mut of_accepted, mut wrongly_accepted) = (0, 0, 0);
    for (file, tally) in &tallies {
        println!(
            "{file}: accepted {}/{}, refused {}/{}",
            tally.accepted, tally.of_accepted, tally.refused, tally.of_refused
        );
        for miss in &tally.misses {
            println!("{miss}");
        }
        accepted += tally.accepted;
        of_accepted += tally.of_accepted;
        wrongly_accepted += tally.of_refused - tally.refused;
    }
    println!("all: accepted {accepted}/{of_accepted}, wrongly accepted {wrongly_accepted}");
    // Raised kind by kind as each reads Apprise's parameters.
    assert!(accepted >= 172, "{accepted} of {of_accepted} accepted");
    assert!(
        wrongly_accepted <= 3,
        "{wrongly_accepted} refused by Apprise accepted"
    );
}
