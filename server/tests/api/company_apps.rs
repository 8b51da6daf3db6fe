//! Reminders through the company's own app, against a mock of DingTalk's open platform:
//! each bound person gets a private work notification, one token serves many messages, an
//! expired token is fetched again once, a repeated reminder never reads the same, a person
//! without a DingTalk id falls back to their next channel, and only admins connect an app.

use serde_json::json;

use crate::helpers::{Caller, json_body};
use crate::mock_apps::MockDingTalk;
use crate::reminders::{Rig, admin, local, rig, today};

const APP_KEY: &str = "dingkq7x2mk4op9azrtq";
const APP_SECRET: &str = "Zs9xKq2M7vBn4LpQw8RtYc3HdJf6GaUe1OiPlKjHgFdSaQwErTy";
const AGENT_ID: u64 = 2_871_234_567;

fn app_url() -> String {
    format!("dingtalk-app://{APP_KEY}:{APP_SECRET}@{AGENT_ID}")
}

async fn dingtalk_rig() -> (Rig, MockDingTalk) {
    let dingtalk = MockDingTalk::start(APP_KEY, APP_SECRET, AGENT_ID).await;
    let rig = rig(&[
        ("DINGTALK_API_BASE", dingtalk.base_url.as_str()),
        ("PUBLIC_URL", "https://kq.example.com"),
    ])
    .await;
    (rig, dingtalk)
}

/// Sets a person's DingTalk userid the way an admin does, over the API.
async fn bind(rig: &Rig, user_id: i32, dingtalk_user_id: &str) {
    let response = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/users/{user_id}"),
            json!({"dingtalk_user_id": dingtalk_user_id}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dingtalk_app_reminds_each_bound_person_privately_on_one_token() {
    let (rig, dingtalk) = dingtalk_rig().await;
    let created = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "钉钉工作通知", "url": app_url()}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let view = json_body(&created);
    assert_eq!(view["kind"], "dingtalk_app");
    assert_eq!(view["user_id"], json!(null), "a team-wide channel");
    assert!(!created.body.contains(APP_SECRET), "{}", created.body);
    // The team robot comes after the app: people without a DingTalk id get it instead.
    rig.channel(json!({"name": "团队群", "url": rig.robots.generic_url("team")}))
        .await;

    let mut people = Vec::new();
    for name in ["zhang", "li", "wang"] {
        let id = rig.person(name, None, None).await;
        bind(&rig, id, &format!("dt_{name}")).await;
        people.push(id);
    }
    let unbound = rig.person("zhao", None, None).await;
    people.push(unbound);
    rig.schedule(&people, "A班").await;

    // The preview says which channel and why.
    let preview = json_body(
        &rig.app
            .get_as(
                &admin(),
                &format!("/api/v1/reminders/upcoming?from={0}&to={0}", today()),
            )
            .await,
    );
    let channel_of = |user_id: i32| -> String {
        preview["reminders"]
            .as_array()
            .expect("reminders")
            .iter()
            .find(|reminder| reminder["user_id"] == user_id)
            .expect("a reminder")["channel"]
            .as_str()
            .expect("channel")
            .to_owned()
    };
    assert_eq!(channel_of(people[0]), "钉钉工作通知");
    assert_eq!(
        channel_of(unbound),
        "团队群（未填写钉钉 userid，不用“钉钉工作通知”）"
    );

    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(4).await;
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row:#}");
    }
    let delivered = dingtalk.delivered();
    let mut to: Vec<&str> = delivered
        .iter()
        .map(|notice| notice.user_id.as_str())
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["dt_li", "dt_wang", "dt_zhang"]);
    for notice in &delivered {
        assert_eq!(notice.agent_id, AGENT_ID);
        let name = notice.user_id.trim_start_matches("dt_");
        assert!(
            notice.content.contains(&format!("{name}同学")),
            "each person reads their own reminder: {notice:#?}"
        );
        assert!(
            notice.content.contains("https://kq.example.com/r/"),
            "with its one-click links: {notice:#?}"
        );
    }
    assert_eq!(
        dingtalk.tokens_issued(),
        1,
        "one token serves every message"
    );
    assert_eq!(dingtalk.results_asked(), 3, "each send is confirmed");
    let team = rig.robots.accepted();
    assert_eq!(team.len(), 1, "{team:#?}");
    assert_eq!(team[0].body["username"], "zhao");
    // The delivery history names the channel, and why for the person passed over.
    let history = rig.deliveries(&format!("user_id={unbound}")).await;
    assert_eq!(
        history[0]["channel"], "团队群（未填写钉钉 userid，不用“钉钉工作通知”）",
        "{history:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_fetched_again_once_and_follow_ups_never_read_the_same() {
    let (rig, dingtalk) = dingtalk_rig().await;
    rig.settings(json!({"follow_up_count": "2", "follow_up_every": "5"}))
        .await;
    rig.channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    let person = rig.person("zhang", None, None).await;
    bind(&rig, person, "dt_zhang").await;
    rig.schedule(&[person], "A班").await;

    rig.tick_at(local(8, 45, 1)).await;
    rig.settled(1).await;
    assert_eq!(dingtalk.tokens_issued(), 1);
    // Two hours later DingTalk no longer takes the token: 42001, then one new token.
    dingtalk.expire_tokens();
    rig.tick_at(local(8, 50, 1)).await;
    rig.settled(2).await;
    rig.tick_at(local(8, 55, 1)).await;
    let rows = rig.settled(3).await;
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row:#}");
    }
    assert_eq!(dingtalk.tokens_issued(), 2, "refreshed once, then reused");
    // DingTalk drops a repeated text silently; every reminder arrived, so none repeated.
    assert_eq!(dingtalk.dropped(), 0);
    let delivered = dingtalk.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:#?}");
    let mut texts: Vec<&str> = delivered.iter().map(|n| n.content.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 3, "{delivered:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_dingtalk_does_not_know_is_a_failure_that_says_so() {
    let (rig, dingtalk) = dingtalk_rig().await;
    rig.channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    let person = rig.person("left", None, None).await;
    bind(&rig, person, "dt_left").await;
    dingtalk.add_stranger("dt_left");
    rig.schedule(&[person], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "failed", "{:#}", rows[0]);
    let answer = rows[0]["answer"].as_str().unwrap_or_default();
    assert!(
        answer.contains("dt_left") && answer.contains("不是企业成员"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_app_credentials_fail_with_dingtalk_s_reason_and_no_secret() {
    let (rig, dingtalk) = dingtalk_rig().await;
    // A good channel of the same app signs in first: its token is not lent to the other.
    let good = rig
        .channel(json!({"name": "正确的应用", "url": app_url(), "active": false}))
        .await;
    let tested = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{good}/test"),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(dingtalk.tokens_issued(), 1);
    let wrong = format!("dingtalk-app://{APP_KEY}:WrongSecretWrongSecretWrong@{AGENT_ID}");
    let id = rig
        .channel(json!({"name": "钉钉工作通知", "url": wrong}))
        .await;
    let person = rig.person("zhang", None, None).await;
    bind(&rig, person, "dt_zhang").await;
    rig.schedule(&[person], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(1).await;
    assert_eq!(rows[0]["status"], "failed", "{:#}", rows[0]);
    let answer = rows[0]["answer"].as_str().unwrap_or_default();
    assert!(answer.contains("40089"), "{answer}");
    assert!(!answer.contains("WrongSecretWrongSecretWrong"), "{answer}");
    // The channel test says the same, at once.
    let tested = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    let result = json_body(&tested);
    assert_eq!(result["ok"], false);
    assert!(
        result["message"]
            .as_str()
            .is_some_and(|message| message.contains("AppKey 或 AppSecret 不正确")),
        "{result:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_connect_a_company_app_nor_read_its_secret() {
    let (rig, _dingtalk) = dingtalk_rig().await;
    rig.channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    rig.app
        .create_user("member1", "member-password-1", "member")
        .await;
    let member: Caller = rig.app.login("member1", "member-password-1").await;
    let refused = rig
        .app
        .json_as(
            &member,
            "POST",
            "/api/v1/channels",
            json!({"name": "我的应用", "url": app_url(), "user_id": null}),
        )
        .await;
    assert!(
        matches!(refused.status, 403 | 422),
        "{} {}",
        refused.status,
        refused.body
    );
    let listed = rig.app.get_as(&member, "/api/v1/channels").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(!listed.body.contains(APP_SECRET), "{}", listed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wecom_app_messages_each_person_privately_and_names_the_ones_it_does_not_know() {
    use crate::mock_apps::MockWeCom;
    let corp_id = "ww4f1c2d3e4a5b6c7d";
    let secret = "Wq8Rt5Yu2Io9Pa3Sd6FgHjKl";
    let wecom = MockWeCom::start(corp_id, secret, 1_000_002).await;
    let rig = rig(&[("WECOM_API_BASE", wecom.base_url.as_str())]).await;
    let created = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "企业微信应用", "url": format!("wecom-app://{corp_id}:{secret}@1000002")}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(json_body(&created)["kind"], "wecom_app");
    assert!(!created.body.contains(secret), "{}", created.body);
    // `person` gives everyone the WeCom userid `wx_<name>`.
    let zhang = rig.person("zhang", None, None).await;
    let gone = rig.person("gone", None, None).await;
    wecom.add_stranger("wx_gone");
    rig.schedule(&[zhang, gone], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(2).await;
    let status_of = |user_id: i32| {
        rows.iter()
            .find(|row| row["user_id"] == user_id)
            .map(|row| (row["status"].clone(), row["answer"].clone()))
            .expect("row")
    };
    assert_eq!(status_of(zhang).0, "sent", "{rows:#?}");
    let (status, answer) = status_of(gone);
    assert_eq!(status, "failed", "{rows:#?}");
    assert!(
        answer
            .as_str()
            .is_some_and(|answer| answer.contains("wx_gone")),
        "{answer}"
    );
    let delivered = wecom.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0].user_id, "wx_zhang");
    assert!(delivered[0].content.contains("zhang同学"), "{delivered:#?}");
    assert_eq!(wecom.tokens_issued(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feishu_app_messages_each_person_privately_by_open_id() {
    use crate::mock_apps::MockFeishu;
    let app_id = "cli_a1b2c3d4e5f6a7b8";
    let secret = "Xy7Pq2Lm9Rt4Vb6Nc3Kd8Fg1";
    let feishu = MockFeishu::start(app_id, secret).await;
    let rig = rig(&[("FEISHU_API_BASE", feishu.base_url.as_str())]).await;
    let created = rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/channels",
            json!({"name": "飞书应用", "url": format!("feishu-app://{app_id}:{secret}")}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(json_body(&created)["kind"], "feishu_app");
    assert!(!created.body.contains(secret), "{}", created.body);
    let zhang = rig
        .person("zhang", None, Some("ou_0123456789abcdef0123456789abcdef"))
        .await;
    let li = rig
        .person("li", None, Some("ou_fedcba9876543210fedcba9876543210"))
        .await;
    rig.schedule(&[zhang, li], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    for row in rig.settled(2).await {
        assert_eq!(row["status"], "sent", "{row:#}");
    }
    let mut delivered = feishu.delivered();
    delivered.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(delivered.len(), 2, "{delivered:#?}");
    assert_eq!(delivered[0].user_id, "ou_0123456789abcdef0123456789abcdef");
    assert!(delivered[0].content.contains("zhang同学"), "{delivered:#?}");
    assert!(delivered[1].content.contains("li同学"), "{delivered:#?}");
    assert_eq!(feishu.tokens_issued(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_bind_people_by_mobile_and_hear_who_could_not_be_found() {
    let (rig, dingtalk) = dingtalk_rig().await;
    let channel = rig
        .channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    rig.channel(json!({"name": "团队群", "url": rig.robots.generic_url("team")}))
        .await;
    let known = rig.person("known", Some("13800138001"), None).await;
    let stranger = rig.person("stranger", Some("13800138002"), None).await;
    let no_mobile = rig.person("nomobile", None, None).await;
    dingtalk.add_member("13800138001", "dt_known");
    let path = format!("/api/v1/channels/{channel}/bind");

    // Members may not.
    rig.app
        .create_user("member1", "member-password-1", "member")
        .await;
    let member = rig.app.login("member1", "member-password-1").await;
    let refused = rig.app.json_as(&member, "POST", &path, json!({})).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A bounded request.
    let too_many: Vec<i32> = (1..=1001).collect();
    let refused = rig
        .app
        .json_as(&admin(), "POST", &path, json!({"user_ids": too_many}))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    // A robot has no directory.
    let robot_id = rig
        .channel(json!({"name": "群机器人", "url": rig.robots.generic_url("other")}))
        .await;
    let refused = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &format!("/api/v1/channels/{robot_id}/bind"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    let response = rig
        .app
        .json_as(
            &admin(),
            "POST",
            &path,
            json!({"user_ids": [known, stranger, no_mobile, 99999]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let report = json_body(&response);
    assert_eq!(
        report["bound"],
        json!([{"user_id": known, "name": "known同学", "platform_id": "dt_known"}])
    );
    let reasons: Vec<(i64, String)> = report["not_found"]
        .as_array()
        .expect("not_found")
        .iter()
        .map(|person| {
            (
                person["user_id"].as_i64().expect("id"),
                person["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (i64::from(stranger), "通讯录里没有这个手机号".to_owned()),
            (i64::from(no_mobile), "没有填写手机号".to_owned()),
            (99999, "用户不存在".to_owned()),
        ]
    );
    let profile = json_body(
        &rig.app
            .get_as(&admin(), &format!("/api/v1/users/{known}"))
            .await,
    );
    assert_eq!(profile["dingtalk_user_id"], "dt_known");

    // The bound person is reminded privately; the others through the team robot.
    rig.schedule(&[known, stranger], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    for row in rig.settled(2).await {
        assert_eq!(row["status"], "sent", "{row:#}");
    }
    let delivered = dingtalk.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0].user_id, "dt_known");
    assert_eq!(rig.robots.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_orders_their_channels_and_admins_set_the_team_default() {
    use crate::mock_push::MockPush;
    let push = MockPush::start().await;
    let (rig, dingtalk) = dingtalk_rig().await;
    let app_channel = rig
        .channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    let robot = rig
        .channel(json!({"name": "团队群", "url": rig.robots.generic_url("team")}))
        .await;
    let zhang = rig.person("zhang", None, None).await;
    bind(&rig, zhang, "dt_zhang").await;
    let li = rig.person("li", None, None).await;
    let bark = rig
        .channel(json!({
            "name": "张的 Bark",
            "url": format!("bark://{}/bark/ZhangBarkKey00001", push.host()),
            "user_id": zhang,
        }))
        .await;
    rig.app
        .create_user("wang", "wang-password-01", "member")
        .await;
    let wang = rig.app.login("wang", "wang-password-01").await;

    // Members order their own channels and the team's, nobody else's: someone else's
    // channel is answered like a missing one (404), a repeat or too many 422.
    let order = |clock_in: Vec<i64>| json!({"clock_in": clock_in, "clock_out": []});
    for (body, status, field) in [
        (order(vec![bark]), 404, "clock_in[0]"),
        (order(vec![app_channel, app_channel]), 422, "clock_in[1]"),
        (order(vec![99_999]), 404, "clock_in[0]"),
        (order(vec![robot; 11]), 422, "clock_in"),
    ] {
        let refused = rig
            .app
            .json_as(&wang, "PUT", "/api/v1/me/channel-order", body)
            .await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert_eq!(
            json_body(&refused)["error"]["field"],
            field,
            "{}",
            refused.body
        );
    }
    let refused = rig
        .app
        .json_as(&wang, "PUT", "/api/v1/channel-order", order(vec![robot]))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // The team's default takes team channels only.
    let refused = rig
        .app
        .json_as(&admin(), "PUT", "/api/v1/channel-order", order(vec![bark]))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);

    // The team: the robot before the app. Zhang: the app, then his Bark.
    let team = rig
        .app
        .json_as(
            &admin(),
            "PUT",
            "/api/v1/channel-order",
            order(vec![robot, app_channel]),
        )
        .await;
    assert_eq!(team.status, 200, "{}", team.body);
    // An admin sets Zhang's; Wang sets his own.
    let zhang_order = format!("/api/v1/users/{zhang}/channel-order");
    let mine = rig
        .app
        .json_as(
            &admin(),
            "PUT",
            &zhang_order,
            order(vec![app_channel, bark]),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(
        json_body(&rig.app.get_as(&admin(), &zhang_order).await),
        json!({"clock_in": [app_channel, bark], "clock_out": []})
    );
    let refused = rig.app.get_as(&wang, &zhang_order).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let own = rig
        .app
        .json_as(&wang, "PUT", "/api/v1/me/channel-order", order(vec![robot]))
        .await;
    assert_eq!(own.status, 200, "{}", own.body);

    rig.schedule(&[zhang, li], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    let rows = rig.settled(2).await;
    let channel_of = |user_id: i32| {
        rows.iter()
            .find(|row| row["user_id"] == user_id)
            .map(|row| row["channel"].as_str().unwrap_or_default().to_owned())
            .expect("row")
    };
    assert_eq!(channel_of(zhang), "钉钉工作通知", "{rows:#?}");
    assert_eq!(
        channel_of(li),
        "团队群",
        "the team's default order: {rows:#?}"
    );
    assert_eq!(dingtalk.delivered().len(), 1);
    assert_eq!(rig.robots.accepted().len(), 1);
    assert!(push.pushes().is_empty(), "Bark comes second for Zhang");

    // Zhang loses his DingTalk id: his order moves on to his Bark, and says why.
    let unbind = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/users/{zhang}"),
            json!({"dingtalk_user_id": null}),
        )
        .await;
    assert_eq!(unbind.status, 200, "{}", unbind.body);
    let preview = json_body(
        &rig.app
            .get_as(
                &admin(),
                &format!(
                    "/api/v1/reminders/upcoming?from={0}&to={0}&user_id={zhang}",
                    today()
                ),
            )
            .await,
    );
    let clock_in = preview["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .find(|reminder| reminder["kind"] == "clock_in")
        .expect("clock in");
    assert_eq!(
        clock_in["channel"],
        "张的 Bark（未填写钉钉 userid，不用“钉钉工作通知”）"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_platform_id_on_two_profiles_reaches_neither_privately() {
    let (rig, dingtalk) = dingtalk_rig().await;
    let channel = rig
        .channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    rig.channel(json!({"name": "团队群", "url": rig.robots.generic_url("team")}))
        .await;
    let zhang = rig.person("zhang", Some("13800138001"), None).await;
    let copy = rig.person("copy", Some("13800138002"), None).await;
    bind(&rig, zhang, "dt_zhang").await;
    bind(&rig, copy, "dt_zhang").await;
    rig.schedule(&[zhang, copy], "A班").await;
    rig.tick_at(local(8, 45, 1)).await;
    for row in rig.settled(2).await {
        assert_eq!(row["status"], "sent", "{row:#}");
        assert_eq!(
            row["channel"], "团队群（钉钉 userid与他人重复，不用“钉钉工作通知”）",
            "{row:#}"
        );
    }
    assert!(dingtalk.delivered().is_empty());
    // Binding by mobile will not put an id on a second profile.
    dingtalk.add_member("13800138002", "dt_zhang");
    let unbind = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &format!("/api/v1/users/{copy}"),
            json!({"dingtalk_user_id": null}),
        )
        .await;
    assert_eq!(unbind.status, 200, "{}", unbind.body);
    let report = json_body(
        &rig.app
            .json_as(
                &admin(),
                "POST",
                &format!("/api/v1/channels/{channel}/bind"),
                json!({"user_ids": [copy]}),
            )
            .await,
    );
    assert_eq!(report["bound"], json!([]), "{report:#}");
    assert_eq!(
        report["not_found"][0]["reason"], "钉钉 userid“dt_zhang”已在“zhang同学”的资料里",
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_company_app_connected_only_admins_set_its_platform_id() {
    let (rig, _dingtalk) = dingtalk_rig().await;
    let member_id = rig
        .app
        .create_user("member1", "member-password-1", "member")
        .await;
    let member = rig.app.login("member1", "member-password-1").await;
    let path = format!("/api/v1/users/{member_id}");
    // No app yet: people keep their own ids (robots mention them by it).
    let own = rig
        .app
        .json_as(
            &member,
            "PATCH",
            &path,
            json!({"dingtalk_user_id": "dt_member"}),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    rig.channel(json!({"name": "钉钉工作通知", "url": app_url()}))
        .await;
    let refused = rig
        .app
        .json_as(
            &member,
            "PATCH",
            &path,
            json!({"dingtalk_user_id": "dt_boss"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(json_body(&refused)["error"]["field"], "dingtalk_user_id");
    // Saving the profile with the id unchanged, and other platforms' ids, still work.
    let unchanged = rig
        .app
        .json_as(
            &member,
            "PATCH",
            &path,
            json!({"dingtalk_user_id": "dt_member", "wecom_user_id": "wx_member"}),
        )
        .await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.body);
    let by_admin = rig
        .app
        .json_as(
            &admin(),
            "PATCH",
            &path,
            json!({"dingtalk_user_id": "dt_member2"}),
        )
        .await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.body);
}
