//! The project and application rules real use found wrong (issue 18, items 6–9): no
//! application to an ended or archived project, STARTS_SOON lists what is ahead,
//! volunteersNeeded holds, the managers hear of a withdrawal, and every application email
//! reads by what happened (received, accepted, declined) in kk, ru and en.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::SmtpServer;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::awards_common::at;
use crate::public_support::{CREATE_PROJECT, code, exec, org};
use crate::rules_awards::{mails_to, wait_mails, worker};

const APPLY: &str = "mutation($p: ID!) { applyToProject(projectId: $p) { id status } }";
const DECIDE: &str = "mutation($id: ID!, $a: Boolean!) { decideApplication(id: $id, accept: $a) { status project { volunteerCount spotsLeft } } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawApplication(id: $id) { status } }";

async fn project(owner: &Gql, org_id: &Value, title: &str, extra: Value) -> Value {
    let mut input =
        json!({ "organizationId": org_id, "title": { "en": title }, "direction": "SOCIAL" });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let p = owner.ok(CREATE_PROJECT, json!({ "i": input })).await["createProject"].clone();
    owner
        .ok(
            "mutation($id: ID!) { publishProject(id: $id) { status } }",
            json!({ "id": p["id"] }),
        )
        .await;
    p
}

async fn volunteer(db: &TestDb, api: &TestApi, email: &str) -> Gql {
    api.client()
        .with_token(&fixtures::user(db, email, Kind::Verified).await.token)
}

fn id(d: &Value, field: &str) -> Value {
    d[field]["id"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn ended_and_archived_projects_take_no_applications_and_starts_soon_is_ahead() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = volunteer(&db, &api, "owner@example.kz").await;
    let v = volunteer(&db, &api, "v@example.kz").await;
    let o = org(&owner, "Helpers", "NGO").await;
    let ended = project(
        &owner,
        &o["id"],
        "Ended",
        json!({ "startsAt": at(-7200), "endsAt": at(-60) }),
    )
    .await;
    let running = project(
        &owner,
        &o["id"],
        "Running",
        json!({ "startsAt": at(-3600), "endsAt": at(3600) }),
    )
    .await;
    let later = project(
        &owner,
        &o["id"],
        "Next week",
        json!({ "startsAt": at(7 * 86400) }),
    )
    .await;
    let soon = project(
        &owner,
        &o["id"],
        "Tomorrow",
        json!({ "startsAt": at(86400) }),
    )
    .await;
    project(&owner, &o["id"], "Undated", json!({})).await;

    // The message in the request's language, here asked for in English.
    let body = v
        .with_locale("en")
        .raw(APPLY, json!({ "p": ended["id"] }))
        .await;
    assert_eq!(code(&body), "PHASE_CLOSED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ended"),
        "{body}"
    );
    v.ok(APPLY, json!({ "p": running["id"] })).await;
    owner
        .ok(
            "mutation($id: ID!) { archiveProject(id: $id) { status } }",
            json!({ "id": later["id"] }),
        )
        .await;
    assert_eq!(
        code(&v.raw(APPLY, json!({ "p": later["id"] })).await),
        "CONFLICT"
    );

    // Only projects still ahead, soonest first; the archived one is not published anyway.
    let list = api
        .client()
        .ok(
            "{ projects(orderBy: STARTS_SOON) { totalCount nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["projects"]["nodes"],
        json!([{ "title": "Tomorrow" }]),
        "{list}"
    );
    assert_eq!(list["projects"]["totalCount"], 1);
    let _ = soon;
}

#[tokio::test(flavor = "multi_thread")]
async fn volunteers_needed_holds_until_the_manager_raises_it() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = volunteer(&db, &api, "owner@example.kz").await;
    let o = org(&owner, "Helpers", "NGO").await;
    let p = project(
        &owner,
        &o["id"],
        "Two places",
        json!({ "volunteersNeeded": 2 }),
    )
    .await;
    let spots = |d: &Value| d["decideApplication"]["project"]["spotsLeft"].clone();
    let mut apps = Vec::new();
    for i in 0..3 {
        let v = volunteer(&db, &api, &format!("v{i}@example.kz")).await;
        apps.push(id(
            &v.ok(APPLY, json!({ "p": p["id"] })).await,
            "applyToProject",
        ));
    }
    let q =
        "query($s: String!) { project(slug: $s) { volunteersNeeded volunteerCount spotsLeft } }";
    let before = api.client().ok(q, json!({ "s": p["slug"] })).await;
    assert_eq!(before["project"]["spotsLeft"], 2);
    assert_eq!(
        spots(&owner.ok(DECIDE, json!({ "id": apps[0], "a": true })).await),
        1
    );
    assert_eq!(
        spots(&owner.ok(DECIDE, json!({ "id": apps[1], "a": true })).await),
        0
    );
    let full = owner.raw(DECIDE, json!({ "id": apps[2], "a": true })).await;
    assert_eq!(code(&full), "CONFLICT", "{full}");
    assert!(
        full["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("volunteersNeeded")
    );
    // Declining is always possible, and accepting one already accepted changes nothing.
    owner.ok(DECIDE, json!({ "id": apps[2], "a": false })).await;
    owner.ok(DECIDE, json!({ "id": apps[1], "a": true })).await;
    owner
        .ok(
            "mutation($id: ID!) { updateProject(id: $id, input: { volunteersNeeded: 3 }) { spotsLeft } }",
            json!({ "id": p["id"] }),
        )
        .await;
    assert_eq!(
        spots(&owner.ok(DECIDE, json!({ "id": apps[2], "a": true })).await),
        0
    );
    let after = api.client().ok(q, json!({ "s": p["slug"] })).await;
    assert_eq!(
        after["project"],
        json!({ "volunteersNeeded": 3, "volunteerCount": 3, "spotsLeft": 0 })
    );
    // In a list, from the row's counter.
    let list = api
        .client()
        .ok(
            "{ projects { nodes { spotsLeft volunteersNeeded } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["projects"]["nodes"],
        json!([{ "spotsLeft": 0, "volunteersNeeded": 3 }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn application_emails_say_what_happened_and_managers_hear_of_a_withdrawal() {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let mut w = worker(&db, &redis, &smtp);
    let owner = volunteer(&db, &api, "owner@example.kz").await;
    exec(
        &db,
        "UPDATE users SET locale = 'ru' WHERE email = 'owner@example.kz'",
    )
    .await;
    let o = org(&owner, "Helpers", "NGO").await;
    // (locale, receipt, acceptance, refusal) — the receipt must never read as a decision.
    let cases = [
        ("kk", "Өтінішіңізді алдық", "қабылдандыңыз", "қабылданбады"),
        (
            "ru",
            "Мы получили вашу заявку",
            "Вы приняты волонтёром",
            "отклонена",
        ),
        (
            "en",
            "We received your application",
            "You are accepted",
            "was declined",
        ),
    ];
    let mut notices = 0;
    for (locale, receipt, accepted, declined) in cases {
        let p = project(&owner, &o["id"], &format!("Project {locale}"), json!({})).await;
        let email = format!("{locale}@example.kz");
        let v = volunteer(&db, &api, &email).await;
        exec(
            &db,
            &format!("UPDATE users SET locale = '{locale}' WHERE email = '{email}'"),
        )
        .await;
        let a = id(
            &v.ok(APPLY, json!({ "p": p["id"] })).await,
            "applyToProject",
        );
        let mails = wait_mails(&smtp, &email, 1).await;
        let (s, t) = &mails[0];
        assert!(s.contains(receipt), "{locale}: {s}");
        assert!(
            !s.contains(accepted) && !t.contains(accepted),
            "{locale}: {s}\n{t}"
        );
        assert!(
            !t.contains("қабылданды") && !s.contains("қабылданды"),
            "{s}\n{t}"
        );

        owner.ok(DECIDE, json!({ "id": a, "a": true })).await;
        let mails = wait_mails(&smtp, &email, 2).await;
        let (s, t) = &mails[1];
        assert!(
            s.contains(accepted) && s.contains(&format!("Project {locale}")),
            "{locale}: {s}"
        );
        assert!(
            !s.contains(declined) && !t.contains(declined),
            "{locale}: {t}"
        );

        // Withdrawing an accepted place tells the managers (the owner reads Russian).
        v.ok(WITHDRAW, json!({ "id": a })).await;
        notices += 1;
        let to_owner = wait_mails(&smtp, "owner@example.kz", 3 * notices - 1).await;
        let withdrew: Vec<_> = to_owner
            .iter()
            .filter(|(s, _)| s.contains("отозвал(а) заявку"))
            .collect();
        assert_eq!(withdrew.len(), notices, "{to_owner:#?}");
        assert!(
            withdrew
                .last()
                .unwrap()
                .0
                .contains(&format!("Project {locale}"))
        );

        // Re-applied and declined: a refusal that says so.
        v.ok(APPLY, json!({ "p": p["id"] })).await;
        owner.ok(DECIDE, json!({ "id": a, "a": false })).await;
        // The second receipt and the refusal go out together, in either order.
        let mails = wait_mails(&smtp, &email, 4).await;
        assert_eq!(
            mails.iter().filter(|(s, _)| s.contains(receipt)).count(),
            2,
            "{mails:#?}"
        );
        let (s, t) = mails
            .iter()
            .find(|(s, _)| s.contains(declined))
            .unwrap_or_else(|| panic!("{locale}: no refusal in {mails:#?}"));
        assert!(
            !s.contains(accepted) && !t.contains(accepted),
            "{locale}: {t}"
        );
        // Withdrawing what was not accepted tells nobody.
        v.ok(WITHDRAW, json!({ "id": a })).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let to_owner = mails_to(&smtp, "owner@example.kz");
    assert_eq!(
        to_owner
            .iter()
            .filter(|(s, _)| s.contains("отозвал(а)"))
            .count(),
        3,
        "{to_owner:#?}"
    );
    w.kill().await.ok();
}
