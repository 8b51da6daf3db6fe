//! Requests (leave, swap, cover, open shifts) over HTTP: every transition and refusal, and
//! what an approval does to the schedule and the reminders, on a manual clock with local
//! mock robots.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::helpers::{Caller, Response, json_body};
use crate::reminders::{Rig, admin, local, rig, today};

const PASSWORD: &str = "Member-Pass-2026";

fn day(offset: i64) -> NaiveDate {
    today() + chrono::Duration::days(offset)
}

struct Team {
    rig: Rig,
    alice: (i32, Caller),
    bob: (i32, Caller),
    carol: (i32, Caller),
    a: i64,
    b: i64,
}

async fn team() -> Team {
    team_with(&[]).await
}

async fn team_with(extra: &[(&str, &str)]) -> Team {
    let rig = rig(extra).await;
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let id = rig.app.create_user(name, PASSWORD, "member").await;
        let caller = rig.app.login(name, PASSWORD).await;
        people.push((i32::try_from(id).expect("id"), caller));
    }
    let a = rig.shift_id("A班").await;
    let b = rig.shift_id("B班").await;
    let carol = people.pop().expect("carol");
    let bob = people.pop().expect("bob");
    let alice = people.pop().expect("alice");
    Team {
        rig,
        alice,
        bob,
        carol,
        a,
        b,
    }
}

impl Team {
    async fn plan(&self, entries: &[(i32, NaiveDate, Option<i64>)]) {
        let items: Vec<Value> = entries
            .iter()
            .map(|(user_id, date, shift_id)| {
                json!({"user_id": user_id, "date": date, "shift_id": shift_id})
            })
            .collect();
        let response = self
            .rig
            .app
            .json_as(&admin(), "PUT", "/api/v1/schedules", json!(items))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    async fn cell(&self, user_id: i32, date: NaiveDate) -> Option<i64> {
        let response = self
            .rig
            .app
            .get_as(
                &admin(),
                &format!("/api/v1/schedules?from={date}&to={date}&user_id={user_id}"),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        json_body(&response)
            .as_array()
            .expect("entries")
            .first()
            .and_then(|entry| entry["shift_id"].as_i64())
    }

    async fn create(&self, caller: &Caller, body: Value) -> Response {
        self.rig
            .app
            .json_as(caller, "POST", "/api/v1/requests", body)
            .await
    }

    async fn created(&self, caller: &Caller, body: Value) -> Value {
        let response = self.create(caller, body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        json_body(&response)
    }

    async fn act(
        &self,
        caller: &Caller,
        id: &Value,
        action: &str,
        body: Option<Value>,
    ) -> Response {
        let path = format!("/api/v1/requests/{id}/{action}");
        match body {
            Some(body) => self.rig.app.json_as(caller, "POST", &path, body).await,
            None => self.rig.app.call(caller, "POST", &path, None, "").await,
        }
    }

    async fn acted(&self, caller: &Caller, id: &Value, action: &str, body: Option<Value>) -> Value {
        let response = self.act(caller, id, action, body).await;
        assert_eq!(response.status, 200, "{action}: {}", response.body);
        json_body(&response)
    }

    async fn get(&self, caller: &Caller, id: &Value) -> Response {
        self.rig
            .app
            .get_as(caller, &format!("/api/v1/requests/{id}"))
            .await
    }

    /// The preview's reason for no reminders, or the reminders' kinds, for one person and date.
    async fn preview(&self, user_id: i32, date: NaiveDate) -> (Vec<String>, Vec<String>) {
        let response = self
            .rig
            .app
            .get_as(
                &admin(),
                &format!("/api/v1/reminders/upcoming?from={date}&to={date}&user_id={user_id}"),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let body = json_body(&response);
        let kinds = body["reminders"]
            .as_array()
            .expect("reminders")
            .iter()
            .filter(|reminder| reminder["sequence"] == 0)
            .map(|reminder| reminder["kind"].as_str().expect("kind").to_owned())
            .collect();
        let labels = body["none"]
            .as_array()
            .expect("none")
            .iter()
            .map(|day| day["label"].as_str().expect("label").to_owned())
            .collect();
        (kinds, labels)
    }
}

/// The mobiles mentioned by reminders (not notices) at the mock robots, in order, once
/// `count` are there.
async fn reminder_mentions(team: &Team, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mentioned: Vec<String> = team
            .rig
            .robots
            .accepted()
            .iter()
            .filter(|message| message.text.contains("提醒】"))
            .flat_map(|message| {
                message.body["at"]["atMobiles"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|mobile| mobile.as_str().map(str::to_owned))
            .collect();
        if mentioned.len() >= count {
            return mentioned;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {mentioned:?} of {count} reminders"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_status(response: &Response, status: u16, what: &str) {
    assert_eq!(response.status, status, "{what}: {}", response.body);
}

fn actions(view: &Value) -> Vec<&str> {
    view["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|action| action.as_str().expect("action"))
        .collect()
}

fn history(view: &Value) -> Vec<(String, String, String)> {
    view["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|event| {
            (
                event["action"].as_str().expect("action").to_owned(),
                event["to_state"].as_str().expect("to_state").to_owned(),
                event["actor"].as_str().expect("actor").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_goes_from_request_to_acceptance_to_approval_and_only_the_right_people_may_act() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, bob_caller) = &team.bob;
    let (_, carol_caller) = &team.carol;
    let tomorrow = day(1);
    team.plan(&[
        (*alice, tomorrow, Some(team.a)),
        (*bob, tomorrow, Some(team.b)),
    ])
    .await;

    // Members ask for themselves only.
    let for_bob = team
        .create(
            alice_caller,
            json!({"kind": "swap", "date": tomorrow, "peer_id": alice, "user_id": bob}),
        )
        .await;
    assert_status(&for_bob, 403, "asking in someone else's name");

    let swap = team
        .created(
            alice_caller,
            json!({"kind": "swap", "date": tomorrow, "peer_id": bob, "reason": "家里有事"}),
        )
        .await;
    let id = &swap["id"];
    assert_eq!(swap["state"], "pending_peer");
    assert_eq!(swap["shift"]["name"], "A班");
    assert_eq!(swap["peer_shift"]["name"], "B班");
    assert_eq!(actions(&swap), vec!["cancel"]);

    // Bob's home page says a request waits for him; Carol's says nothing.
    let waiting = |caller: Caller| {
        let app = &team.rig.app;
        async move {
            let response = app.server_fn(&caller, "load_dashboard", json!({})).await;
            assert_eq!(response.status, 200, "{}", response.body);
            json_body(&response)["requests_waiting"]
                .as_u64()
                .expect("a count")
        }
    };
    assert_eq!(waiting(bob_caller.clone()).await, 1);
    assert_eq!(waiting(carol_caller.clone()).await, 0);

    // Bob sees it with what he may do; Carol, not named, sees nothing and may do nothing.
    let seen_by_bob = json_body(&team.get(bob_caller, id).await);
    assert_eq!(actions(&seen_by_bob), vec!["accept", "decline"]);
    assert_status(&team.get(carol_caller, id).await, 404, "not named");
    assert_status(
        &team.act(carol_caller, id, "accept", None).await,
        403,
        "not the colleague",
    );
    assert_status(
        &team.act(alice_caller, id, "accept", None).await,
        403,
        "the requester",
    );
    assert_status(
        &team.act(alice_caller, id, "approve", None).await,
        403,
        "a member approving",
    );
    assert_status(
        &team
            .act(bob_caller, id, "decline", Some(json!({"reason": " "})))
            .await,
        422,
        "declining with a blank reason",
    );

    let accepted = team.acted(bob_caller, id, "accept", None).await;
    assert_eq!(accepted["state"], "pending");
    assert_eq!(waiting(bob_caller.clone()).await, 0);
    let admin_session = team.rig.app.login_admin().await;
    assert_eq!(waiting(admin_session).await, 1, "now the admins'");
    assert_status(
        &team.act(bob_caller, id, "accept", None).await,
        409,
        "accepting twice",
    );
    assert_status(
        &team.act(&admin(), id, "reject", Some(json!({}))).await,
        422,
        "rejecting without a reason",
    );
    // Nothing moved before the approval.
    assert_eq!(team.cell(*alice, tomorrow).await, Some(team.a));

    let approved = team.acted(&admin(), id, "approve", None).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(team.cell(*alice, tomorrow).await, Some(team.b));
    assert_eq!(team.cell(*bob, tomorrow).await, Some(team.a));
    assert_eq!(
        history(&approved),
        vec![
            (
                "create".to_owned(),
                "pending_peer".to_owned(),
                "alice".to_owned()
            ),
            ("accept".to_owned(), "pending".to_owned(), "bob".to_owned()),
            (
                "approve".to_owned(),
                "approved".to_owned(),
                "api-token".to_owned()
            ),
        ]
    );
    // The decision is in the audit log, with the cells it changed.
    let audit = json_body(
        &team
            .rig
            .app
            .get_as(&admin(), "/api/v1/audit?kind=request_decided")
            .await,
    );
    let detail = audit["items"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains(&format!("alice {tomorrow}：A班 → B班")),
        "{audit}"
    );
    assert!(
        detail.contains(&format!("bob {tomorrow}：B班 → A班")),
        "{audit}"
    );
    assert_status(
        &team.act(alice_caller, id, "cancel", None).await,
        409,
        "cancelling a decided request",
    );
    assert_status(
        &team
            .act(&admin(), id, "reject", Some(json!({"reason": "晚了"})))
            .await,
        409,
        "rejecting a decided request",
    );

    // An admin revokes it (a reason is required): the shifts go back.
    assert_status(
        &team.act(&admin(), id, "revoke", Some(json!({}))).await,
        422,
        "revoking without a reason",
    );
    let revoked = team
        .acted(&admin(), id, "revoke", Some(json!({"reason": "人手不够"})))
        .await;
    assert_eq!(revoked["state"], "cancelled");
    assert_eq!(revoked["decision_reason"], "人手不够");
    assert_eq!(team.cell(*alice, tomorrow).await, Some(team.a));
    assert_eq!(team.cell(*bob, tomorrow).await, Some(team.b));

    // The lists: Bob sees the request he is named in; filters narrow it.
    let listed = json_body(
        &team
            .rig
            .app
            .get_as(bob_caller, "/api/v1/requests?state=cancelled&kind=swap")
            .await,
    );
    assert_eq!(listed["total"], 1, "{listed}");
    let none = json_body(&team.rig.app.get_as(carol_caller, "/api/v1/requests").await);
    assert_eq!(none["total"], 0, "{none}");
    assert_status(
        &team
            .rig
            .app
            .get_as(&admin(), "/api/v1/requests?state=maybe")
            .await,
        422,
        "an unknown state",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn covers_are_declined_cancelled_or_invalidated_and_swaps_need_a_shift_to_swap() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, _) = &team.bob;
    let (carol, carol_caller) = &team.carol;
    let tomorrow = day(1);
    team.plan(&[
        (*alice, today(), Some(team.a)),
        (*alice, tomorrow, Some(team.a)),
        (*bob, tomorrow, Some(team.b)),
    ])
    .await;

    // The schedule must allow it: Bob works that day, so a cover to him is refused;
    // Carol has nothing to swap.
    let busy = team
        .create(
            alice_caller,
            json!({"kind": "cover", "date": tomorrow, "peer_id": bob}),
        )
        .await;
    assert_status(&busy, 422, "a cover to someone already working");
    assert_eq!(json_body(&busy)["error"]["field"], "peer_id");
    let nothing = team
        .create(
            carol_caller,
            json!({"kind": "swap", "date": tomorrow, "peer_id": alice}),
        )
        .await;
    assert_status(&nothing, 422, "a swap without a shift");
    assert_eq!(json_body(&nothing)["error"]["field"], "date");
    let past = team
        .create(
            alice_caller,
            json!({"kind": "cover", "date": day(-1), "peer_id": carol}),
        )
        .await;
    assert_status(&past, 422, "a date in the past");
    let nobody = team
        .create(
            alice_caller,
            json!({"kind": "cover", "date": tomorrow, "peer_id": 99_999}),
        )
        .await;
    assert_status(&nobody, 404, "a colleague who does not exist");
    assert_eq!(json_body(&nobody)["error"]["field"], "peer_id");

    // Declined by the colleague, with a reason.
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": tomorrow, "peer_id": carol}),
        )
        .await;
    let declined = team
        .acted(
            carol_caller,
            &cover["id"],
            "decline",
            Some(json!({"reason": "那天有课"})),
        )
        .await;
    assert_eq!(declined["state"], "rejected");
    assert_eq!(declined["decision_reason"], "那天有课");

    // Cancelled by the requester while undecided.
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": tomorrow, "peer_id": carol}),
        )
        .await;
    assert_status(
        &team.act(carol_caller, &cover["id"], "cancel", None).await,
        403,
        "the colleague cancelling",
    );
    let cancelled = team.acted(alice_caller, &cover["id"], "cancel", None).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_status(
        &team.act(alice_caller, &cover["id"], "cancel", None).await,
        409,
        "cancelling twice",
    );

    // Invalidated: the schedule changed after the request was made.
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": tomorrow, "peer_id": carol}),
        )
        .await;
    team.plan(&[(*alice, tomorrow, Some(team.b))]).await;
    let stale = team.act(carol_caller, &cover["id"], "accept", None).await;
    assert_status(&stale, 409, "accepting after the schedule changed");
    let after = json_body(&team.get(alice_caller, &cover["id"]).await);
    assert_eq!(after["state"], "invalidated");
    assert_eq!(
        history(&after).last().expect("an event").clone(),
        (
            "invalidate".to_owned(),
            "invalidated".to_owned(),
            "system".to_owned()
        )
    );
    assert_eq!(team.cell(*carol, tomorrow).await, None, "nothing applied");

    // Expired: still undecided when the shift starts (the worker's tick).
    let today_cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": today(), "peer_id": carol}),
        )
        .await
        .clone();
    assert_eq!(today_cover["state"], "pending_peer", "{today_cover}");
    team.rig.tick_at(local(8, 0, 0)).await;
    assert_eq!(
        json_body(&team.get(alice_caller, &today_cover["id"]).await)["state"],
        "pending_peer"
    );
    team.rig.tick_at(local(9, 0, 1)).await;
    let expired = json_body(&team.get(alice_caller, &today_cover["id"]).await);
    assert_eq!(expired["state"], "expired", "{expired}");
    assert_status(
        &team
            .act(carol_caller, &today_cover["id"], "accept", None)
            .await,
        409,
        "accepting an expired request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_leave_removes_the_reminders_and_revoking_restores_them() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, _) = &team.bob;
    team.plan(&[
        (*alice, day(2), Some(team.a)),
        (*alice, day(3), Some(team.a)),
        (*bob, day(2), Some(team.a)),
    ])
    .await;
    assert_status(
        &team
            .create(
                alice_caller,
                json!({"kind": "leave", "from": day(3), "to": day(2), "leave_type": "annual"}),
            )
            .await,
        422,
        "a leave ending before it starts",
    );
    assert_status(
        &team
            .create(
                alice_caller,
                json!({"kind": "leave", "from": day(2), "to": day(40), "leave_type": "annual"}),
            )
            .await,
        422,
        "a leave of more than 31 days",
    );
    assert_status(
        &team
            .create(
                alice_caller,
                json!({"kind": "leave", "from": day(2), "to": day(2), "leave_type": "holiday"}),
            )
            .await,
        422,
        "an unknown leave type",
    );
    let leave = team
        .created(
            alice_caller,
            json!({"kind": "leave", "from": day(2), "to": day(3), "leave_type": "annual", "reason": "回老家"}),
        )
        .await;
    assert_eq!(leave["state"], "pending");
    assert_status(
        &team
            .create(
                alice_caller,
                json!({"kind": "leave", "from": day(3), "to": day(4), "leave_type": "sick"}),
            )
            .await,
        409,
        "overlapping leave",
    );
    // Still reminded while undecided.
    assert_eq!(
        team.preview(*alice, day(2)).await.0,
        vec!["clock_in", "clock_out"]
    );

    team.acted(&admin(), &leave["id"], "approve", None).await;
    for date in [day(2), day(3)] {
        let (kinds, labels) = team.preview(*alice, date).await;
        assert!(kinds.is_empty(), "{date}: {kinds:?}");
        assert_eq!(labels, vec!["休假（年假）"], "{date}");
    }
    // The schedule itself is kept, and nobody else is touched.
    assert_eq!(team.cell(*alice, day(2)).await, Some(team.a));
    assert_eq!(
        team.preview(*bob, day(2)).await.0,
        vec!["clock_in", "clock_out"]
    );

    team.acted(
        &admin(),
        &leave["id"],
        "revoke",
        Some(json!({"reason": "改期"})),
    )
    .await;
    assert_eq!(
        team.preview(*alice, day(2)).await.0,
        vec!["clock_in", "clock_out"]
    );

    // Half a day: a morning off needs no clock-in.
    let morning = team
        .created(
            alice_caller,
            json!({"kind": "leave", "from": day(3), "to": day(3), "leave_type": "personal", "part": "morning"}),
        )
        .await;
    team.acted(&admin(), &morning["id"], "approve", None).await;
    assert_eq!(team.preview(*alice, day(3)).await.0, vec!["clock_out"]);
    assert_status(
        &team
            .create(alice_caller, json!({"kind": "leave", "from": day(4), "to": day(5), "leave_type": "sick", "part": "afternoon"}))
            .await,
        422,
        "half a day over two days",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_shift_goes_to_the_first_valid_claim() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, bob_caller) = &team.bob;
    let (carol, carol_caller) = &team.carol;
    let date = day(1);
    team.plan(&[(*alice, date, Some(team.a))]).await;
    assert_status(
        &team
            .create(
                alice_caller,
                json!({"kind": "open", "date": date, "shift_id": team.b}),
            )
            .await,
        403,
        "a member posting an open shift",
    );
    let open = team
        .created(
            &team.rig.app.login_admin().await,
            json!({"kind": "open", "date": date, "shift_id": team.b}),
        )
        .await;
    assert_eq!(open["state"], "pending");
    assert_eq!(
        actions(&json_body(&team.get(bob_caller, &open["id"]).await)),
        vec!["claim"]
    );
    assert_status(
        &team.act(&admin(), &open["id"], "approve", None).await,
        409,
        "approving an open shift",
    );
    // Alice works that day already.
    let busy = team.act(alice_caller, &open["id"], "claim", None).await;
    assert_status(&busy, 409, "a claim by someone working");
    assert_eq!(json_body(&busy)["error"]["field"], "date");
    assert_eq!(
        json_body(&team.get(&admin(), &open["id"]).await)["state"],
        "pending",
        "still open"
    );

    // Bob and Carol claim at once: exactly one wins.
    let (first, second) = tokio::join!(
        team.act(bob_caller, &open["id"], "claim", None),
        team.act(carol_caller, &open["id"], "claim", None),
    );
    let mut statuses = vec![first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 409], "{} / {}", first.body, second.body);
    let winner = if first.status == 200 { *bob } else { *carol };
    let loser = if first.status == 200 { *carol } else { *bob };
    let taken = json_body(&team.get(&admin(), &open["id"]).await);
    assert_eq!(taken["state"], "approved");
    assert_eq!(taken["peer"]["id"], winner);
    assert_eq!(team.cell(winner, date).await, Some(team.b));
    assert_eq!(team.cell(loser, date).await, None);

    // A shift only an open shift names is archived, not deleted, like one in a schedule.
    let night = team
        .rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "夜班", "label": "夜", "color": "#222222", "start": "22:00", "end": "06:00"}),
        )
        .await;
    assert_status(&night, 201, "creating a night shift");
    let night = json_body(&night)["id"].as_i64().expect("id");
    team.created(
        &team.rig.app.login_admin().await,
        json!({"kind": "open", "date": day(2), "shift_id": night}),
    )
    .await;
    let removed = team
        .rig
        .app
        .call(
            &admin(),
            "DELETE",
            &format!("/api/v1/shifts/{night}"),
            None,
            "",
        )
        .await;
    assert_status(&removed, 200, "removing the night shift");
    assert_eq!(json_body(&removed)["result"], "archived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_cover_moves_the_reminders_and_a_late_approval_reminds_at_once() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, bob_caller) = &team.bob;
    let (carol, carol_caller) = &team.carol;
    for (id, mobile) in [
        (alice, "13800138011"),
        (bob, "13800138012"),
        (carol, "13800138013"),
    ] {
        let response = team
            .rig
            .app
            .json_as(
                &admin(),
                "PATCH",
                &format!("/api/v1/users/{id}"),
                json!({"mobile": mobile}),
            )
            .await;
        assert_status(&response, 200, "setting a mobile");
    }
    team.rig
        .channel(json!({"name": "团队群", "kind": "dingtalk", "url": team.rig.robots.dingtalk_url("team")}))
        .await;
    team.plan(&[
        (*alice, today(), Some(team.a)),
        (*carol, day(1), Some(team.a)),
    ])
    .await;

    // Approved at 07:00, before the 08:45 reminder: Bob is reminded, Alice is not.
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": today(), "peer_id": bob}),
        )
        .await;
    team.acted(bob_caller, &cover["id"], "accept", None).await;
    team.acted(&admin(), &cover["id"], "approve", None).await;
    team.rig.tick_at(local(8, 45, 0)).await;
    let mentions = reminder_mentions(&team, 1).await;
    assert_eq!(
        mentions,
        vec!["13800138012"],
        "the clock-in reminder goes to the new owner"
    );
    team.rig.tick_at(local(18, 0, 1)).await;
    let mentions = reminder_mentions(&team, 2).await;
    assert_eq!(
        mentions,
        vec!["13800138012", "13800138012"],
        "and the clock-out reminder"
    );

    // Tomorrow Carol gives her shift to Alice; the approval comes at 08:50, after Carol's
    // 08:45 reminder: Alice is reminded at once, not at 08:45 of a day gone by.
    let tomorrow = |hour, minute, second| local(hour, minute, second) + chrono::Duration::days(1);
    let late = team
        .created(
            carol_caller,
            json!({"kind": "cover", "date": day(1), "peer_id": alice}),
        )
        .await;
    team.acted(alice_caller, &late["id"], "accept", None).await;
    team.rig.tick_at(tomorrow(8, 45, 0)).await;
    let mentions = reminder_mentions(&team, 3).await;
    assert_eq!(
        mentions[2], "13800138013",
        "Carol still had the shift at 08:45"
    );
    team.rig.clock.set(tomorrow(8, 50, 0));
    team.acted(&admin(), &late["id"], "approve", None).await;
    team.rig.tick_at(tomorrow(8, 50, 1)).await;
    let mentions = reminder_mentions(&team, 4).await;
    assert_eq!(
        mentions[3], "13800138011",
        "the new owner is reminded at once"
    );
    team.rig.tick_at(tomorrow(18, 0, 1)).await;
    let mentions = reminder_mentions(&team, 5).await;
    assert_eq!(
        mentions[4], "13800138011",
        "the clock-out reminder is the new owner's too"
    );
    let rows = team.rig.settled(5).await;
    assert_eq!(rows.len(), 5, "exactly once each: {rows:#?}");
    assert_eq!(reminder_mentions(&team, 5).await.len(), 5);
}

/// Waits until no notice is waiting or being sent: the server's own worker ticks too (on
/// the same manual clock), and may be the one sending a notice when a test's tick returns.
async fn notices_settled(team: &Team) {
    use app::ssr::entity::notice;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let busy = notice::Entity::find()
            .filter(notice::Column::Status.is_in(["pending", "sending"]))
            .count(&team.rig.app.db)
            .await
            .expect("count notices");
        if busy == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{busy} notices still unsent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The notices a mock channel named `name` accepted: (text, link path on our server).
fn notices_at(team: &Team, name: &str) -> Vec<(String, Option<String>)> {
    team.rig
        .robots
        .accepted_by(name)
        .into_iter()
        .map(|message| {
            let link = message.body["links"]
                .as_array()
                .and_then(|links| links.first())
                .map(|link| {
                    assert_eq!(link["label"], "查看申请");
                    link["url"]
                        .as_str()
                        .expect("url")
                        .strip_prefix("https://kq.example.com")
                        .expect("a link under PUBLIC_URL")
                        .to_owned()
                });
            (message.text, link)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_reach_the_people_concerned_once_and_their_links_answer() {
    let team = team_with(&[("PUBLIC_URL", "https://kq.example.com")]).await;
    let (alice, alice_caller) = &team.alice;
    let (bob, _) = &team.bob;
    let (carol, _) = &team.carol;
    let users = json_body(&team.rig.app.get_as(&admin(), "/api/v1/users?q=admin").await);
    let admin_id = users["items"][0]["id"].as_i64().expect("the admin's id");
    for (id, name) in [
        (i64::from(*alice), "alice"),
        (i64::from(*bob), "bob"),
        (i64::from(*carol), "carol"),
        (admin_id, "admin"),
    ] {
        team.rig
            .channel(json!({
                "name": format!("{name} 的通知"),
                "kind": "generic",
                "url": team.rig.robots.generic_url(name),
                "user_id": id,
            }))
            .await;
    }
    let tomorrow = day(1);
    team.plan(&[
        (*alice, tomorrow, Some(team.a)),
        (*bob, tomorrow, Some(team.b)),
    ])
    .await;

    // Bob is asked, and only Bob.
    let swap = team
        .created(
            alice_caller,
            json!({"kind": "swap", "date": tomorrow, "peer_id": bob, "reason": "孩子开家长会"}),
        )
        .await;
    team.rig.tick_at(local(7, 1, 0)).await;
    notices_settled(&team).await;
    let asked = notices_at(&team, "bob");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0].0.contains("alice 用"), "{}", asked[0].0);
    assert!(asked[0].0.contains("请同意或婉拒"), "{}", asked[0].0);
    assert!(asked[0].0.contains("孩子开家长会"), "{}", asked[0].0);
    for other in ["alice", "carol", "admin"] {
        assert!(notices_at(&team, other).is_empty(), "{other} was not asked");
    }

    // Bob answers from the notice's link: opening it only shows the request.
    let link = asked[0].1.clone().expect("a link to the request");
    let page = team.rig.app.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-testid=\"link-accept\""),
        "{}",
        page.body
    );
    assert_eq!(
        json_body(&team.get(&admin(), &swap["id"]).await)["state"],
        "pending_peer"
    );
    let answered = team
        .rig
        .app
        .call(
            &Caller::default(),
            "POST",
            &link,
            Some("application/x-www-form-urlencoded"),
            "action=accept",
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(answered.body.contains("待审批"), "{}", answered.body);
    let twice = team
        .rig
        .app
        .call(
            &Caller::default(),
            "POST",
            &link,
            Some("application/x-www-form-urlencoded"),
            "action=accept",
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    // Now the admins hear of it; then both people of the swap hear of the approval.
    team.rig.tick_at(local(7, 2, 0)).await;
    notices_settled(&team).await;
    let waiting = notices_at(&team, "admin");
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0].0.contains("等待管理员审批"), "{}", waiting[0].0);
    team.acted(&admin(), &swap["id"], "approve", None).await;
    team.rig.tick_at(local(7, 3, 0)).await;
    notices_settled(&team).await;
    let to_alice = notices_at(&team, "alice");
    assert_eq!(to_alice.len(), 1, "{to_alice:?}");
    assert!(to_alice[0].0.contains("已批准"), "{}", to_alice[0].0);
    assert_eq!(notices_at(&team, "bob").len(), 2);

    // Exactly once: more ticks send nothing again, and each notice had its own key.
    team.rig.tick_at(local(7, 4, 0)).await;
    notices_settled(&team).await;
    team.rig.tick_at(local(9, 30, 0)).await;
    notices_settled(&team).await;
    let counts: Vec<usize> = ["alice", "bob", "carol", "admin"]
        .iter()
        .map(|name| notices_at(&team, name).len())
        .collect();
    assert_eq!(counts, vec![1, 2, 0, 1]);
    let mut keys: Vec<String> = team
        .rig
        .robots
        .accepted()
        .iter()
        .filter_map(|message| message.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4);

    // A leave waits for the admins; the next morning's digest lists it once.
    let leave = team
        .created(
            alice_caller,
            json!({"kind": "leave", "from": day(3), "to": day(3), "leave_type": "sick"}),
        )
        .await;
    team.rig.tick_at(local(9, 31, 0)).await;
    notices_settled(&team).await;
    assert_eq!(notices_at(&team, "admin").len(), 2, "the leave waits");
    let next_morning = local(9, 0, 5) + chrono::Duration::days(1);
    team.rig.tick_at(next_morning).await;
    notices_settled(&team).await;
    team.rig
        .tick_at(next_morning + chrono::Duration::minutes(1))
        .await;
    let admin_notices = notices_at(&team, "admin");
    assert_eq!(admin_notices.len(), 3, "{admin_notices:?}");
    assert!(
        admin_notices[2].0.contains(&format!("#{}", leave["id"])),
        "{}",
        admin_notices[2].0
    );

    // An open shift is announced to the people free that day, not to who posted it.
    team.plan(&[(*alice, day(7), Some(team.a))]).await;
    let open = team
        .created(
            &team.rig.app.login_admin().await,
            json!({"kind": "open", "date": day(7), "shift_id": team.b}),
        )
        .await;
    team.rig
        .tick_at(next_morning + chrono::Duration::minutes(2))
        .await;
    notices_settled(&team).await;
    let to_carol = notices_at(&team, "carol");
    assert_eq!(to_carol.len(), 1, "{to_carol:?}");
    assert!(to_carol[0].0.contains("可以认领"), "{}", to_carol[0].0);
    assert_eq!(notices_at(&team, "bob").len(), 3, "Bob is free too");
    assert_eq!(notices_at(&team, "alice").len(), 1, "Alice works that day");
    assert_eq!(notices_at(&team, "admin").len(), 3, "the admin posted it");
    // Carol claims it from the notice's link.
    let link = to_carol[0].1.clone().expect("a link");
    let claimed = team
        .rig
        .app
        .call(
            &Caller::default(),
            "POST",
            &link,
            Some("application/x-www-form-urlencoded"),
            "action=claim",
        )
        .await;
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    assert_eq!(
        json_body(&team.get(&admin(), &open["id"]).await)["peer"]["id"],
        *carol
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_swap_moves_both_peoples_reminders() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, bob_caller) = &team.bob;
    for (id, mobile) in [(alice, "13800138021"), (bob, "13800138022")] {
        let response = team
            .rig
            .app
            .json_as(
                &admin(),
                "PATCH",
                &format!("/api/v1/users/{id}"),
                json!({"mobile": mobile}),
            )
            .await;
        assert_status(&response, 200, "setting a mobile");
    }
    team.rig
        .channel(json!({"name": "团队群", "kind": "dingtalk", "url": team.rig.robots.dingtalk_url("team")}))
        .await;
    // Alice A班 09:00 (reminded 08:45), Bob B班 13:00 (reminded 12:45).
    team.plan(&[
        (*alice, today(), Some(team.a)),
        (*bob, today(), Some(team.b)),
    ])
    .await;
    let swap = team
        .created(
            alice_caller,
            json!({"kind": "swap", "date": today(), "peer_id": bob}),
        )
        .await;
    team.acted(bob_caller, &swap["id"], "accept", None).await;
    team.acted(&admin(), &swap["id"], "approve", None).await;

    team.rig.tick_at(local(8, 45, 0)).await;
    notices_settled(&team).await;
    assert_eq!(
        reminder_mentions(&team, 1).await,
        vec!["13800138022"],
        "Bob has A班 now"
    );
    team.rig.tick_at(local(12, 45, 0)).await;
    notices_settled(&team).await;
    assert_eq!(
        reminder_mentions(&team, 2).await,
        vec!["13800138022", "13800138021"],
        "and Alice B班"
    );
    let rows = team.rig.settled(2).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_automatic_approval_and_working_time_rules() {
    let team = team().await;
    let (alice, alice_caller) = &team.alice;
    let (bob, bob_caller) = &team.bob;
    let (carol, carol_caller) = &team.carol;

    // An admin rejects, with the reason the requester reads.
    let leave = team
        .created(
            alice_caller,
            json!({"kind": "leave", "from": day(5), "to": day(5), "leave_type": "personal"}),
        )
        .await;
    let rejected = team
        .acted(
            &admin(),
            &leave["id"],
            "reject",
            Some(json!({"reason": "那天盘点"})),
        )
        .await;
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["decision_reason"], "那天盘点");
    assert_status(
        &team.act(&admin(), &leave["id"], "approve", None).await,
        409,
        "approving a rejected request",
    );

    // A late shift the day before leaves Carol 9.5 hours of rest before Alice's 09:00.
    let late = team
        .rig
        .app
        .json_as(
            &admin(),
            "POST",
            "/api/v1/shifts",
            json!({"name": "晚班", "label": "晚", "color": "#333333", "start": "15:00", "end": "23:30"}),
        )
        .await;
    assert_status(&late, 201, "creating a late shift");
    let late = json_body(&late)["id"].as_i64().expect("id");
    team.plan(&[
        (*carol, day(1), Some(late)),
        (*alice, day(2), Some(team.a)),
        (*alice, day(3), Some(team.a)),
    ])
    .await;
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": day(2), "peer_id": carol}),
        )
        .await;
    team.acted(carol_caller, &cover["id"], "accept", None).await;
    let seen = json_body(&team.get(&admin(), &cover["id"]).await);
    let warnings = seen["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|warning| warning
            .as_str()
            .is_some_and(|text| text.contains("只休息 9 小时 30 分"))),
        "{seen}"
    );
    let unconfirmed = team.act(&admin(), &cover["id"], "approve", None).await;
    assert_status(&unconfirmed, 409, "a broken rule to confirm");
    assert_eq!(json_body(&unconfirmed)["error"]["field"], "confirm");
    assert_eq!(
        team.cell(*carol, day(2)).await,
        None,
        "nothing applied before confirming"
    );
    let confirmed = team
        .acted(
            &admin(),
            &cover["id"],
            "approve",
            Some(json!({"confirm": true})),
        )
        .await;
    assert_eq!(confirmed["state"], "approved");
    let note = confirmed["history"][2]["note"].as_str().expect("a note");
    assert!(note.contains("工时提醒"), "{note}");
    assert_eq!(team.cell(*carol, day(2)).await, Some(team.a));

    // With the refusing setting, confirming does not help.
    team.rig
        .settings(json!({"refuse_rule_breaches": "true"}))
        .await;
    team.plan(&[(*carol, day(2), Some(late))]).await;
    let cover = team
        .created(
            alice_caller,
            json!({"kind": "cover", "date": day(3), "peer_id": carol}),
        )
        .await;
    team.acted(carol_caller, &cover["id"], "accept", None).await;
    let refused = team
        .act(
            &admin(),
            &cover["id"],
            "approve",
            Some(json!({"confirm": true})),
        )
        .await;
    assert_status(&refused, 409, "a refused breach");
    assert!(
        json_body(&refused)["error"]["message"]
            .as_str()
            .expect("message")
            .contains("不能批准")
    );

    // Swaps both people agreed to can be approved without an admin.
    team.rig
        .settings(json!({"auto_approve_swaps": "true"}))
        .await;
    team.plan(&[(*alice, day(6), Some(team.a)), (*bob, day(6), Some(team.b))])
        .await;
    let swap = team
        .created(
            alice_caller,
            json!({"kind": "swap", "date": day(6), "peer_id": bob}),
        )
        .await;
    let accepted = team.acted(bob_caller, &swap["id"], "accept", None).await;
    assert_eq!(accepted["state"], "approved");
    assert_eq!(team.cell(*alice, day(6)).await, Some(team.b));
    assert_eq!(team.cell(*bob, day(6)).await, Some(team.a));
}
