//! Channel addresses written the way Apprise writes them: what their parameters set reaches
//! the service, what does not apply is shown as ignored, a wrong value is refused by name.

use serde_json::{Value, json};

use crate::helpers::json_body;
use crate::mock_push::{MockPush, SmtpSink};
use crate::reminders::{Rig, admin, rig};

/// Creates the channel and returns its view.
async fn create(rig: &Rig, name: &str, url: &str, user_id: i32) -> Value {
    let created = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": name, "url": url, "user_id": user_id}),
        )
        .await;
    assert_eq!(created.status, 201, "{url}: {}", created.body);
    json_body(&created)
}

/// Sends the channel's test message and returns the result.
async fn test_send(rig: &Rig, view: &Value) -> Value {
    let tested = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{}/test", view["id"]),
            Value::Null,
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    let result = json_body(&tested);
    assert_eq!(result["ok"], true, "{result:#}");
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bark_and_gotify_parameters_reach_the_service() {
    let push = MockPush::start().await;
    let rig = rig(&[]).await;
    let zhang = rig.person("zhang", None, None).await;
    let host = push.host().to_owned();

    let bark = create(
        &rig,
        "张的 Bark",
        &format!(
            "bark://{host}/bark/BarkDeviceKey0001?sound=alarm&level=timeSensitive&group=%E8%80%83%E5%8B%A4&overflow=split"
        ),
        zhang,
    )
    .await;
    assert_eq!(
        bark["url"],
        format!("bark://{host}/bark/Bark***01?sound=alarm&level=timeSensitive&group=考勤")
    );
    assert_eq!(
        bark["ignored_params"],
        json!([{"name": "overflow", "reason": "提醒很短，不需要拆分或截断"}])
    );
    test_send(&rig, &bark).await;
    let pushes = push.wait_for(1, std::time::Duration::from_secs(10)).await;
    let fields = &pushes[0].fields;
    assert_eq!(pushes[0].to, "BarkDeviceKey0001");
    assert_eq!(fields["sound"], "alarm");
    assert_eq!(fields["level"], "timeSensitive");
    assert_eq!(fields["group"], "考勤");

    let gotify = create(
        &rig,
        "张的 Gotify",
        &format!("gotify://{host}/gotify/GotifyAppToken01?priority=high"),
        zhang,
    )
    .await;
    assert_eq!(gotify["ignored_params"], json!([]));
    test_send(&rig, &gotify).await;
    let pushes = push.wait_for(2, std::time::Duration::from_secs(10)).await;
    assert_eq!(pushes[1].service, "gotify");
    assert_eq!(pushes[1].fields["priority"], 8);

    // A value wrong for its parameter is refused, naming the parameter; nothing is saved.
    for (url, parameter) in [
        (
            format!("bark://{host}/bark/BarkDeviceKey0001?sound=trumpet"),
            "sound",
        ),
        (
            format!("bark://{host}/bark/BarkDeviceKey0001?level=loud"),
            "level",
        ),
        (
            format!("gotify://{host}/gotify/GotifyAppToken01?priority=urgent"),
            "priority",
        ),
        (format!("ntfy://{host}/kq-alerts?priority=9"), "priority"),
        ("mailto://a:b@qq.com?mode=tls13".to_owned(), "mode"),
    ] {
        let refused = rig
            .app
            .json_as(
                &admin(),
                "POST",
                "/api/v1/channels",
                json!({"name": "坏参数", "url": url, "user_id": zhang}),
            )
            .await;
        assert_eq!(refused.status, 422, "{url}: {}", refused.body);
        assert!(
            refused.body.contains(&format!("参数 {parameter} 的值")),
            "{url}: {}",
            refused.body
        );
    }
    let listed = json_body(&rig.app.get_as(&admin(), "/api/v1/channels").await);
    let names: Vec<&str> = listed
        .as_array()
        .or(listed["items"].as_array())
        .expect("channels")
        .iter()
        .filter_map(|channel| channel["name"].as_str())
        .collect();
    assert!(!names.contains(&"坏参数"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_through_a_relay_without_login_and_a_server_with_one() {
    let relay = SmtpSink::relay().await;
    let server = SmtpSink::start().await;
    let rig = rig(&[]).await;
    let zhang = rig.person("zhang", None, None).await;

    let relayed = create(
        &rig,
        "内网中继",
        &format!(
            "mailto://127.0.0.1:{}?from=kq@example.com&to=zhang@example.com&cc=lead@example.com&pgp=sign",
            relay.port
        ),
        zhang,
    )
    .await;
    assert_eq!(
        relayed["url"],
        format!(
            "mailto://127.0.0.1:{}?mode=insecure&from=kq@example.com&to=zhang@example.com&cc=lead@example.com",
            relay.port
        )
    );
    assert_eq!(
        relayed["ignored_params"],
        json!([{"name": "pgp", "reason": "提醒邮件不做 PGP 签名或加密"}])
    );
    let result = test_send(&rig, &relayed).await;
    assert!(
        result["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("250"),
        "{result:#}"
    );
    assert_eq!(relay.logins(), [false]);
    let mails = relay.mails();
    assert_eq!(mails[0].0, ["zhang@example.com", "lead@example.com"]);
    assert!(
        mails[0].1.contains("Cc: lead@example.com"),
        "{}",
        mails[0].1
    );

    let logged_in = create(
        &rig,
        "邮箱",
        &format!(
            "mailto://kq%40example.com:mail-password-1@127.0.0.1:{}?to=zhang@example.com&name=%E6%89%93%E5%8D%A1%E6%8F%90%E9%86%92&format=html",
            server.port
        ),
        zhang,
    )
    .await;
    test_send(&rig, &logged_in).await;
    assert_eq!(server.logins(), [true]);
    let mails = server.mails();
    assert_eq!(mails[0].0, ["zhang@example.com"]);
    assert!(mails[0].1.contains("kq@example.com"), "{}", mails[0].1);
    // `format=html`: a text part and an HTML part.
    assert!(
        mails[0].1.contains("multipart/alternative"),
        "{}",
        mails[0].1
    );
    assert!(
        mails[0].1.contains("Content-Type: text/html"),
        "{}",
        mails[0].1
    );
    assert!(
        mails[0].1.contains("Content-Type: text/plain"),
        "{}",
        mails[0].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ntfy_address_with_several_topics_reaches_each_and_is_sent_when_any_took_it() {
    let push = MockPush::start().await;
    let rig = rig(&[]).await;
    let zhang = rig.person("zhang", None, None).await;
    let host = push.host().to_owned();

    let both = create(
        &rig,
        "两个主题",
        &format!("ntfy://{host}/kq-phone/kq-desk"),
        zhang,
    )
    .await;
    let result = test_send(&rig, &both).await;
    let pushes = push.wait_for(2, std::time::Duration::from_secs(10)).await;
    let topics: Vec<&str> = pushes.iter().map(|push| push.to.as_str()).collect();
    assert_eq!(topics, ["kq-phone", "kq-desk"]);
    let answer = result["answer"].as_str().unwrap_or_default();
    assert!(
        answer.contains("主题 1：HTTP 200") && answer.contains("主题 2：HTTP 200"),
        "{answer}"
    );

    // One topic refused: the person still got it on the other, so it counts as sent (a
    // retry would repeat it there) and the answer says which failed.
    let partly = create(
        &rig,
        "一个被拒",
        &format!("ntfy://{host}/kq-phone2/forbidden-topic"),
        zhang,
    )
    .await;
    let result = test_send(&rig, &partly).await;
    let answer = result["answer"].as_str().unwrap_or_default();
    assert!(answer.contains("主题 2：HTTP 403"), "{answer}");
    assert_eq!(push.pushes().len(), 3);

    // Every topic refused: not sent.
    let refused = create(
        &rig,
        "全被拒",
        &format!("ntfy://{host}/forbidden-a/forbidden-b"),
        zhang,
    )
    .await;
    let tested = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{}/test", refused["id"]),
            Value::Null,
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(json_body(&tested)["ok"], false, "{}", tested.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_address_s_format_parameter_sets_the_channel_s_format_unless_one_is_given() {
    let rig = rig(&[]).await;
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let asked = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "钉钉群", "url": format!("dingtalk://{token}?format=markdown")}),
        )
        .await;
    assert_eq!(asked.status, 201, "{}", asked.body);
    assert_eq!(json_body(&asked)["format"], "markdown");
    let given = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "钉钉群2", "url": format!("dingtalk://{token}?format=markdown"), "format": "text"}),
        )
        .await;
    assert_eq!(given.status, 201, "{}", given.body);
    assert_eq!(json_body(&given)["format"], "text");
    let plain = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "企业微信群", "url": "wecombot://?key=abc-123&format=html"}),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(
        json_body(&plain)["format"],
        "text",
        "html is no robot format"
    );
}
