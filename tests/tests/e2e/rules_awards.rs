//! The award rules real use found wrong (issue 18, items 1–5): who counts as the same nominee,
//! award slugs and countries through the shared validation, the moderator's note in a
//! rejection, MOST_VOTES while counts are hidden, deleting an award that never opened.

use std::time::Duration;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::awards_common::{
    CREATE_AWARD, CREATE_CATEGORY, MODERATE, admin_and_nominator, award_input, nominating_award,
    submit, voting_award,
};
use crate::public_support::{code, exec, field, org, published_project};

/// A captured message's subject and text part, decoded.
pub fn mail_text(c: &Captured) -> (String, String) {
    let parsed = mailparse::parse_mail(&c.raw).expect("valid MIME");
    let subject = parsed
        .headers
        .iter()
        .find(|h| h.get_key_ref().eq_ignore_ascii_case("subject"))
        .map(|h| h.get_value())
        .unwrap_or_default();
    let text = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("text part")
        .get_body()
        .expect("text body");
    (subject, text)
}

/// Every captured message to `to`, as (subject, text), oldest first.
pub fn mails_to(smtp: &SmtpServer, to: &str) -> Vec<(String, String)> {
    smtp.messages()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to))
        .map(mail_text)
        .collect()
}

/// Waits until `to` has received `n` messages; returns them.
pub async fn wait_mails(smtp: &SmtpServer, to: &str, n: usize) -> Vec<(String, String)> {
    let to_owned = to.to_owned();
    let arrived = smtp
        .wait_for(Duration::from_secs(30), move |m| {
            m.iter().filter(|c| c.rcpt_to.contains(&to_owned)).count() >= n
        })
        .await;
    assert!(
        arrived,
        "{to} got {:?}",
        mails_to(smtp, to)
            .iter()
            .map(|(s, _)| s.clone())
            .collect::<Vec<_>>()
    );
    mails_to(smtp, to)
}

/// A worker delivering this test's outbox to `smtp`.
pub fn worker(db: &TestDb, redis: &TestRedis, smtp: &SmtpServer) -> tokio::process::Child {
    WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url()).spawn_worker()
}

fn nominate(
    category: &str,
    kind: &str,
    name: &str,
    country: &str,
    link: Option<(&str, &Value)>,
) -> Value {
    let mut input = json!({
        "categoryId": category, "nomineeName": name, "nomineeKind": kind,
        "statement": "Years of help to the neighbourhood", "country": country,
    });
    if let Some((key, id)) = link {
        input[key] = id.clone();
    }
    json!({ "input": input })
}

const SUBMIT: &str =
    "mutation($input: SubmitNominationInput!) { submitNomination(input: $input) { id } }";

async fn submitted(who: &Gql, vars: Value) -> String {
    who.ok(SUBMIT, vars).await["submitNomination"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn existing(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["existingNominationId"].as_str()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_nominee_is_the_same_project_organization_or_person() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let (admin, first) = admin_and_nominator(&db, &api.client()).await;
    let other = api.client().with_token(
        &fixtures::user(&db, "other@example.kz", Kind::Verified)
            .await
            .token,
    );
    let third = api.client().with_token(
        &fixtures::user(&db, "third@example.kz", Kind::Verified)
            .await
            .token,
    );
    let (_, category) = nominating_award(&admin, "Volunteer of the Year", false).await;
    let organization = org(&first, "Clean River", "NGO").await;
    let project = published_project(&first, &organization["id"], "Clean River cleanup").await;

    // One project under two names is one nominee; the submitter is told which nomination.
    let by_project = submitted(
        &first,
        nominate(
            &category,
            "PROJECT",
            "Таза Өзен",
            "KZ",
            Some(("projectId", &project["id"])),
        ),
    )
    .await;
    let again = first
        .raw(
            SUBMIT,
            nominate(
                &category,
                "PROJECT",
                "Clean River",
                "KZ",
                Some(("projectId", &project["id"])),
            ),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert_eq!(existing(&again), Some(by_project.as_str()), "{again}");
    // Someone else may not learn about a nomination still pending moderation.
    let hidden = other
        .raw(
            SUBMIT,
            nominate(
                &category,
                "PROJECT",
                "River",
                "KZ",
                Some(("projectId", &project["id"])),
            ),
        )
        .await;
    assert_eq!(code(&hidden), "CONFLICT");
    assert_eq!(existing(&hidden), None, "{hidden}");
    assert!(!hidden.to_string().contains("Таза Өзен"), "{hidden}");
    // Approved nominations are public: now it is named.
    admin
        .ok(MODERATE, json!({ "id": by_project, "d": "APPROVE" }))
        .await;
    let named = other
        .raw(
            SUBMIT,
            nominate(
                &category,
                "PROJECT",
                "River",
                "KZ",
                Some(("projectId", &project["id"])),
            ),
        )
        .await;
    assert_eq!(existing(&named), Some(by_project.as_str()), "{named}");
    assert!(
        named["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Таза Өзен")
    );

    // The organization by id, whatever the name.
    submitted(
        &other,
        nominate(
            &category,
            "ORGANIZATION",
            "Clean River NGO",
            "KZ",
            Some(("organizationId", &organization["id"])),
        ),
    )
    .await;
    let org_again = third
        .raw(
            SUBMIT,
            nominate(
                &category,
                "ORGANIZATION",
                "Таза Өзен қоғамы",
                "KZ",
                Some(("organizationId", &organization["id"])),
            ),
        )
        .await;
    assert_eq!(code(&org_again), "CONFLICT");

    // A person who shares the project's name is someone else.
    submitted(
        &third,
        nominate(&category, "PERSON", "Таза Өзен", "KZ", None),
    )
    .await;

    // A person: case, spaces, ё/е, Kazakh letters, script and word order fold; the country
    // does not.
    let aigerim = submitted(
        &first,
        nominate(&category, "PERSON", "Айгерим Бекова", "KZ", None),
    )
    .await;
    for spelling in [
        "  АЙГЕРИМ   бекова. ",
        "Aigerim Bekova",
        "Бекова Айгерім",
        "Aygerim BEKOVA",
    ] {
        let body = first
            .raw(SUBMIT, nominate(&category, "PERSON", spelling, "KZ", None))
            .await;
        assert_eq!(code(&body), "CONFLICT", "{spelling}: {body}");
        assert_eq!(existing(&body), Some(aigerim.as_str()), "{spelling}");
    }
    submitted(
        &other,
        nominate(&category, "PERSON", "Aigerim Bekova", "RU", None),
    )
    .await;
    submitted(
        &other,
        nominate(&category, "PERSON", "Алёна Ильина", "KZ", None),
    )
    .await;
    let yo = third
        .raw(
            SUBMIT,
            nominate(&category, "PERSON", "Алена Ilyina", "KZ", None),
        )
        .await;
    assert_eq!(code(&yo), "CONFLICT", "{yo}");

    submitted(
        &third,
        nominate(&category, "PERSON", "Ерлан Қасымов", "KZ", None),
    )
    .await;
    let latin = other
        .raw(
            SUBMIT,
            nominate(&category, "PERSON", "Yerlan Kassymov", "KZ", None),
        )
        .await;
    assert_eq!(code(&latin), "CONFLICT", "{latin}");

    // A withdrawn nomination blocks nothing.
    first
        .ok(
            "mutation($id: ID!) { withdrawNomination(id: $id) { status } }",
            json!({ "id": aigerim }),
        )
        .await;
    submitted(
        &third,
        nominate(&category, "PERSON", "Aigerim Bekova", "KZ", None),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn award_slugs_and_countries_go_through_the_shared_validation() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let mut input = award_input("x", [-3600, 3600, 7200, 10800], false);
    input["title"] = json!({ "ru": "Доброе сердце 2027", "kk": "Мейірімді жүрек 2027" });
    input["year"] = json!(2027);
    let a = admin.ok(CREATE_AWARD, json!({ "input": input })).await;
    assert_eq!(a["createAward"]["slug"], "dobroe-serdtse-2027");
    let a2 = admin.ok(CREATE_AWARD, json!({ "input": input })).await;
    assert_eq!(a2["createAward"]["slug"], "dobroe-serdtse-2027-2");

    let mut taken = input.clone();
    taken["slug"] = json!("dobroe-serdtse-2027");
    let body = admin.raw(CREATE_AWARD, json!({ "input": taken })).await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "slug"),
        "{body}"
    );
    let mut bad = input.clone();
    bad["slug"] = json!("Доброе сердце");
    let body = admin.raw(CREATE_AWARD, json!({ "input": bad })).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "slug"));

    let mut xx = input.clone();
    xx["countries"] = json!(["KZ", "XX"]);
    let body = admin.raw(CREATE_AWARD, json!({ "input": xx })).await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "countries"),
        "{body}"
    );
    let id = a["createAward"]["id"].clone();
    let body = admin
        .raw(
            "mutation($id: ID!) { updateAward(id: $id, input: { countries: [\"ZZ\"] }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "countries"));
    let lower = admin
        .ok(
            "mutation($id: ID!) { updateAward(id: $id, input: { countries: [\"kz\", \"ru\"] }) { countries } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(lower["updateAward"]["countries"], json!(["KZ", "RU"]));

    // A nomination's country too.
    let c = admin
        .ok(
            CREATE_CATEGORY,
            json!({ "input": { "awardId": id, "title": { "en": "Category" } } }),
        )
        .await;
    let category = c["createAwardCategory"]["id"].as_str().unwrap();
    let body = nominator
        .raw(SUBMIT, nominate(category, "PERSON", "Someone", "XX", None))
        .await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "country"));
}

#[tokio::test(flavor = "multi_thread")]
async fn nomination_emails_read_by_their_state_and_a_rejection_carries_the_note() {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let (admin, _) = admin_and_nominator(&db, &api.client()).await;
    let mut w = worker(&db, &redis, &smtp);
    let (_, category) = nominating_award(&admin, "Volunteer of the Year", false).await;
    // (locale, receipt, approval, rejection, the note's label)
    let cases = [
        (
            "kk",
            "Номинацияңызды алдық",
            "мақұлданды",
            "қабылданбады",
            "Модератордың түсініктемесі",
        ),
        (
            "ru",
            "Номинация получена и ждёт проверки",
            "одобрена",
            "отклонена",
            "Комментарий модератора",
        ),
        (
            "en",
            "Nomination received, awaiting review",
            "was approved",
            "was declined",
            "The moderator's note",
        ),
    ];
    for (locale, receipt, approved, rejected, label) in cases {
        let email = format!("{locale}@example.kz");
        let u = fixtures::user(&db, &email, Kind::Verified).await;
        exec(
            &db,
            &format!("UPDATE users SET locale = '{locale}' WHERE id = {}", u.id),
        )
        .await;
        let who = api.client().with_token(&u.token);
        let yes = submit(&who, &category, &format!("Approved {locale}")).await;
        let no = submit(&who, &category, &format!("Rejected {locale}")).await;
        admin
            .ok(MODERATE, json!({ "id": yes, "d": "APPROVE" }))
            .await;
        let note = format!("Нет подтверждений / no evidence ({locale})");
        admin
            .ok(MODERATE, json!({ "id": no, "d": "REJECT", "note": note }))
            .await;
        let mails = wait_mails(&smtp, &email, 4).await;
        let receipts: Vec<_> = mails.iter().filter(|(s, _)| s.contains(receipt)).collect();
        assert_eq!(receipts.len(), 2, "{locale}: {mails:#?}");
        for (s, t) in &receipts {
            assert!(
                !s.contains(approved) && !t.contains(approved),
                "{locale} receipt: {s}"
            );
        }
        let ok = mails
            .iter()
            .find(|(s, _)| s.contains(&format!("Approved {locale}")) && s.contains(approved))
            .unwrap_or_else(|| panic!("{locale} approval: {mails:#?}"));
        assert!(!ok.1.contains(label), "no note was given: {}", ok.1);
        let (s, t) = mails
            .iter()
            .find(|(s, _)| s.contains(&format!("Rejected {locale}")) && s.contains(rejected))
            .unwrap_or_else(|| panic!("{locale} rejection: {mails:#?}"));
        assert!(
            t.contains(&format!("{label}: {note}")),
            "{locale}: {s}\n{t}"
        );
    }
    w.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn most_votes_while_counts_are_hidden_orders_by_name_with_a_warning() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let (_, category, noms) = voting_award(&admin, &nominator, 3, false).await;
    // Two votes for the last one: by votes it would come first.
    for i in 0..2 {
        let v = fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await;
        api.client()
            .with_token(&v.token)
            .ok(crate::awards_common::CAST, json!({ "n": noms[2] }))
            .await;
    }
    let q = "query($id: ID!, $o: NominationOrder) { node(id: $id) { ... on AwardCategory {
        nominations(orderBy: $o) { nodes { nomineeName voteCount } } } } }";
    let body = api
        .client()
        .raw(q, json!({ "id": category, "o": "MOST_VOTES" }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let names: Vec<&str> = body["data"]["node"]["nominations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nomineeName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Nominee 0", "Nominee 1", "Nominee 2"]);
    let w = &body["extensions"]["warnings"][0];
    assert_eq!(w["code"], "ORDER_BY_NAME_WHILE_COUNTS_HIDDEN", "{body}");
    assert_eq!(w["path"], json!(["node", "nominations"]));
    // Asked by name: no warning.
    let body = api
        .client()
        .raw(q, json!({ "id": category, "o": "NAME" }))
        .await;
    assert!(
        body.get("extensions")
            .is_none_or(|e| e.get("warnings").is_none()),
        "{body}"
    );

    // With live counts the order is by votes, silently.
    let (_, live_category, live) = voting_award(&admin, &nominator, 2, true).await;
    let v = fixtures::user(&db, "live@example.kz", Kind::Verified).await;
    api.client()
        .with_token(&v.token)
        .ok(crate::awards_common::CAST, json!({ "n": live[1] }))
        .await;
    let body = api
        .client()
        .raw(q, json!({ "id": live_category, "o": "MOST_VOTES" }))
        .await;
    assert!(
        body.get("extensions")
            .is_none_or(|e| e.get("warnings").is_none()),
        "{body}"
    );
    assert_eq!(
        body["data"]["node"]["nominations"]["nodes"][0]["voteCount"], 1,
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_award_that_never_opened_can_be_deleted_with_its_categories() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let delete = "mutation($id: ID!) { deleteAward(id: $id) }";
    let a = admin
        .ok(
            CREATE_AWARD,
            json!({ "input": award_input("Upcoming", [3600, 7200, 10800, 14400], false) }),
        )
        .await;
    let (id, slug) = (
        a["createAward"]["id"].clone(),
        a["createAward"]["slug"].clone(),
    );
    let mut categories = Vec::new();
    for t in ["One", "Two"] {
        let c = admin
            .ok(
                CREATE_CATEGORY,
                json!({ "input": { "awardId": id, "title": { "en": t } } }),
            )
            .await;
        categories.push(c["createAwardCategory"]["id"].clone());
    }
    assert_eq!(
        code(&nominator.raw(delete, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    let d = admin.ok(delete, json!({ "id": id })).await;
    assert_eq!(d["deleteAward"], id);
    let gone = api
        .client()
        .ok(
            "query($s: String!, $c: ID!) { award(slug: $s) { id } node(id: $c) { id } }",
            json!({ "s": slug, "c": categories[0] }),
        )
        .await;
    assert!(gone["award"].is_null() && gone["node"].is_null(), "{gone}");
    assert_eq!(
        code(&admin.raw(delete, json!({ "id": id })).await),
        "NOT_FOUND"
    );

    // Once nominations have opened, people may have acted on it.
    let (open, category) = nominating_award(&admin, "Open", false).await;
    submit(&nominator, &category, "Someone").await;
    assert_eq!(
        code(&admin.raw(delete, json!({ "id": open })).await),
        "PHASE_CLOSED"
    );
}
