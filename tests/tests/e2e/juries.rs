//! Juries and final results, end to end: a 50/50 RANK_POINTS award with two criteria, three
//! jurors (one with a conflict, one limited to a category), 50 voters, the freeze, the served
//! snapshot and its hash, the verifier on the real and a tampered document, every juror email in
//! the juror's language, and every later change refused. Then the bad-input and access cases.

use std::time::Duration;

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::smtp::{Captured, SmtpServer};
use birgemiz_tests::worker_harness::WorkerEnv;
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis, bin_path};
use serde_json::{Value, json};

use crate::awards_common::{
    MODERATE, award_input, close_voting, nominating_award, open_voting, raw_id, set_dates, submit,
};
use crate::public_support::{code, exec};

const SET_FORMULA: &str = "mutation($a: ID!, $i: ResultFormulaInput!) {
    setResultFormula(awardId: $a, input: $i) {
        formula { publicWeight juryWeight method rankPoints normalizeJurors description } } }";
const CREATE_CRITERION: &str = "mutation($i: CreateJudgingCriterionInput!) {
    createJudgingCriterion(input: $i) { id weight maxScore position title } }";
const INVITE: &str = "mutation($a: ID!, $e: String!, $c: [ID!]) {
    inviteJuror(awardId: $a, email: $e, categoryIds: $c) { id displayName invitedAt acceptedAt
        categories { id } } }";
const SCORE: &str = "mutation($n: ID!, $s: [CriterionScoreInput!]!, $c: String) {
    scoreNomination(nominationId: $n, scores: $s, comment: $c) {
        id total submitted criteria { criterion { id } score } } }";
const CONFLICT: &str = "mutation($n: ID!, $r: String!) {
    declareConflict(nominationId: $n, reason: $r) { conflict score { id } nomination { id } } }";
const SUBMIT: &str = "mutation($a: ID!) { submitJuryScores(awardId: $a) { id submittedAt
    progress { assigned scored conflicts submitted } } }";
const FREEZE: &str = "mutation($a: ID!) { freezeResults(awardId: $a) {
    sha256 url votesCounted votesExcluded frozenAt frozenBy { id } } }";
const PUBLISH: &str = "mutation($a: ID!) { publishResults(awardId: $a) { id phase } }";
const CAST: &str = "mutation($n: ID!) { castVote(nominationId: $n) { id } }";
const FINAL: &str = "query($slug: String!) { award(slug: $slug) {
    resultSnapshot { sha256 url votesCounted frozenBy { id } }
    categories { id finalResults { rank score publicVotes publicRank juryScore juryRank
        jurorsScored nomination { id nomineeName } } } } }";

fn crit(id: &str, score: i64) -> Value {
    json!({ "criterionId": id, "score": score })
}

/// The plain-text part of a captured message.
fn text_of(m: &Captured) -> String {
    let parsed = mailparse::parse_mail(&m.raw).expect("valid MIME");
    let part = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("text part");
    part.get_body().expect("body")
}

fn subject_of(m: &Captured) -> String {
    let parsed = mailparse::parse_mail(&m.raw).expect("valid MIME");
    parsed
        .headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case("Subject"))
        .map(|h| h.get_value())
        .unwrap_or_default()
}

/// Messages to `to` whose text contains `needle`.
fn mails_to<'a>(all: &'a [Captured], to: &str, needle: &str) -> Vec<&'a Captured> {
    all.iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to) && text_of(m).contains(needle))
        .collect()
}

/// Waits for a message to `to` containing `needle` and returns its text and subject.
async fn wait_mail(smtp: &SmtpServer, to: &str, needle: &str) -> (String, String) {
    let found = smtp
        .wait_for(Duration::from_secs(30), |all| {
            !mails_to(all, to, needle).is_empty()
        })
        .await;
    assert!(found, "no email to {to} containing {needle:?}");
    let all = smtp.messages();
    let m = mails_to(&all, to, needle)[0];
    (text_of(m), subject_of(m))
}

/// Uses the sign-in link of an email (as its reader would: the page's button POSTs it) and
/// returns the session it hands over.
async fn sign_in_through(api: &TestApi, mail_text: &str, locale: &str) -> String {
    // The invitation opens the frontend (FRONTEND_URL is set), whose button would call
    // signInWithLink; the api's own page does the same.
    let start = mail_text
        .find("https://front.test/sign-in?token=")
        .expect("a sign-in link into the frontend");
    let token: String = mail_text[start + "https://front.test/sign-in?token=".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let html = reqwest::Client::new()
        .post(api.url(&format!("/auth/link?token={token}")))
        .header("accept-language", locale)
        .send()
        .await
        .expect("post link")
        .text()
        .await
        .expect("html");
    let start = html.find("<code id=\"code\">").expect("the session") + 16;
    let end = start + html[start..].find("</code>").expect("</code>");
    html[start..end].to_owned()
}

fn run_verifier(source: &str) -> (bool, String) {
    let out = std::process::Command::new(bin_path("birgemiz-api"))
        .args(["verify-results", source])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run verify-results");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn close_to(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jury_award_from_formula_to_verified_results() {
    let (db, redis, smtp) = (
        TestDb::new().await,
        TestRedis::new(),
        SmtpServer::start().await,
    );
    let api = TestApi::start(&db, &redis).await;
    let _worker = WorkerEnv::new(&db.url, &redis.url, &redis.namespace, &smtp.url())
        .set("REMINDER_INTERVAL_SECS", "1")
        .set("FRONTEND_URL", "https://front.test")
        .spawn_worker();
    let gql = api.client();
    let admin_user = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let admin = gql.with_token(&admin_user.token);
    let nominator = gql.with_token(
        &fixtures::user(&db, "n@example.kz", Kind::Verified)
            .await
            .token,
    );
    // An existing account reading English; the two other jurors have none yet.
    let existing = fixtures::user(&db, "aliya@example.kz", Kind::Verified).await;
    exec(
        &db,
        "UPDATE users SET locale = 'en' WHERE email = 'aliya@example.kz'",
    )
    .await;
    let outsider = gql.with_token(
        &fixtures::user(&db, "outsider@example.kz", Kind::Verified)
            .await
            .token,
    );

    let (award, cat1) = nominating_award(&admin, "Volunteer of the Year", false).await;
    let slug = admin
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Award { slug } } }",
            json!({ "id": award }),
        )
        .await["node"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let cat2 = admin
        .ok(
            "mutation($i: CreateAwardCategoryInput!) { createAwardCategory(input: $i) { id } }",
            json!({ "i": { "awardId": award, "title": { "en": "Organization of the year" } } }),
        )
        .await["createAwardCategory"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The default formula is the public vote alone.
    let d = gql
        .with_locale("ru")
        .ok(
            "query($s: String!) { award(slug: $s) { formula { publicWeight juryWeight method description } criteria { id } jurors { totalCount } resultSnapshot { sha256 } } }",
            json!({ "s": slug }),
        )
        .await;
    assert_eq!(d["award"]["formula"]["publicWeight"], 1.0);
    assert_eq!(d["award"]["formula"]["method"], "WEIGHTED_SHARE");
    assert!(
        d["award"]["formula"]["description"]
            .as_str()
            .unwrap()
            .contains("Только народное")
    );
    assert_eq!(d["award"]["jurors"], Value::Null, "jurors are for admins");
    assert_eq!(d["award"]["resultSnapshot"], Value::Null);

    // The formula: 50/50 by rank points, described in each language.
    let input =
        json!({ "publicWeight": 0.5, "method": "RANK_POINTS", "rankPoints": [5, 4, 3, 2, 1] });
    assert_eq!(
        code(
            &outsider
                .raw(SET_FORMULA, json!({ "a": award, "i": input }))
                .await
        ),
        "FORBIDDEN"
    );
    let f = admin
        .with_locale("kk")
        .ok(SET_FORMULA, json!({ "a": award, "i": input }))
        .await;
    let f = &f["setResultFormula"]["formula"];
    assert_eq!(
        (f["publicWeight"].as_f64(), f["juryWeight"].as_f64()),
        (Some(0.5), Some(0.5))
    );
    assert_eq!(f["rankPoints"], json!([5, 4, 3, 2, 1]));
    assert!(
        f["description"]
            .as_str()
            .unwrap()
            .contains("Халықтық дауыс — 50%"),
        "{f}"
    );
    for bad in [
        json!({ "publicWeight": 1.5, "method": "WEIGHTED_SHARE" }),
        json!({ "publicWeight": 0.5, "method": "RANK_POINTS" }),
        json!({ "publicWeight": 0.5, "method": "RANK_POINTS", "rankPoints": [1, 5] }),
        json!({ "publicWeight": 0.5, "method": "WEIGHTED_SHARE", "rankPoints": [5] }),
    ] {
        let body = admin
            .raw(SET_FORMULA, json!({ "a": award, "i": bad }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }

    // Two criteria: impact (weight 2, out of 10) and reach (weight 1, out of 5).
    let impact = admin
        .ok(CREATE_CRITERION, json!({ "i": { "awardId": award, "title": { "en": "Impact", "ru": "Влияние", "kk": "Ықпал" }, "weight": 2.0, "maxScore": 10 } }))
        .await["createJudgingCriterion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reach = admin
        .ok(CREATE_CRITERION, json!({ "i": { "awardId": award, "title": { "en": "Reach" }, "weight": 1.0, "maxScore": 5 } }))
        .await["createJudgingCriterion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = admin
        .raw(CREATE_CRITERION, json!({ "i": { "awardId": award, "title": { "en": "Zero" }, "weight": 1.0, "maxScore": 0 } }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");

    // Three jurors, invited in their languages; the third scores the first category only.
    let j1 = admin
        .with_locale("ru")
        .ok(INVITE, json!({ "a": award, "e": "Daniyar@Example.kz" }))
        .await;
    let j2 = admin
        .ok(INVITE, json!({ "a": award, "e": "aliya@example.kz" }))
        .await;
    let j3 = admin
        .with_locale("kk")
        .ok(
            INVITE,
            json!({ "a": award, "e": "saule@example.kz", "c": [cat1] }),
        )
        .await;
    assert_eq!(j1["inviteJuror"]["displayName"], "daniyar");
    assert_eq!(j3["inviteJuror"]["categories"][0]["id"], json!(cat1));
    assert_eq!(j1["inviteJuror"]["acceptedAt"], Value::Null);
    let j2_id = j2["inviteJuror"]["id"].as_str().unwrap().to_owned();
    let body = admin
        .raw(INVITE, json!({ "a": award, "e": "DANIYAR@example.kz" }))
        .await;
    assert_eq!(code(&body), "CONFLICT", "the same address twice: {body}");
    let body = admin
        .raw(
            INVITE,
            json!({ "a": award, "e": "x@example.kz", "c": [award] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        code(
            &outsider
                .raw(INVITE, json!({ "a": award, "e": "y@example.kz" }))
                .await
        ),
        "FORBIDDEN"
    );

    // The invitations sign each juror in; the accounts are created on first use.
    let (ru_text, ru_subject) = wait_mail(&smtp, "daniyar@example.kz", "/sign-in?token=").await;
    assert!(ru_subject.contains("Приглашение в жюри"), "{ru_subject}");
    assert!(ru_text.contains("конфликте интересов"));
    let (en_text, en_subject) = wait_mail(&smtp, "aliya@example.kz", "/sign-in?token=").await;
    assert!(en_subject.contains("invited to the jury"), "{en_subject}");
    let (kk_text, kk_subject) = wait_mail(&smtp, "saule@example.kz", "/sign-in?token=").await;
    assert!(
        kk_subject.contains("қазылар алқасына шақыру"),
        "{kk_subject}"
    );
    let juror1 = gql.with_token(&sign_in_through(&api, &ru_text, "ru").await);
    let juror2 = gql.with_token(&sign_in_through(&api, &en_text, "en").await);
    let juror3 = gql.with_token(&sign_in_through(&api, &kk_text, "kk").await);
    let seats = juror1
        .ok(
            "{ viewer { locale jurorSeats { id acceptedAt award { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(seats["viewer"]["locale"], "RU");
    assert_eq!(
        seats["viewer"]["jurorSeats"][0]["award"]["id"],
        json!(award)
    );
    assert!(seats["viewer"]["jurorSeats"][0]["acceptedAt"].is_string());
    let seats2 = juror2
        .ok("{ viewer { id jurorSeats { id } } }", json!({}))
        .await;
    assert_eq!(
        seats2["viewer"]["id"],
        json!(birgemiz_tests_id("User", existing.id))
    );
    assert_eq!(seats2["viewer"]["jurorSeats"][0]["id"], json!(j2_id));

    // Four nominations in the first category, one in the second, all approved.
    let mut noms = Vec::new();
    for name in ["Nominee A", "Nominee B", "Nominee C", "Nominee D"] {
        noms.push(submit(&nominator, &cat1, name).await);
    }
    let e = submit(&nominator, &cat2, "Nominee E").await;
    for id in noms.iter().chain([&e]) {
        admin
            .ok(MODERATE, json!({ "id": id, "d": "APPROVE" }))
            .await;
    }
    // Scoring opens when nominations close.
    let score_a = json!({ "n": noms[0], "s": [crit(&impact, 8), crit(&reach, 4)] });
    assert_eq!(
        code(&juror1.raw(SCORE, score_a.clone()).await),
        "PHASE_CLOSED"
    );

    // Voting opens (closing within the reminder window).
    open_voting(&admin, &award, 3600).await;
    for (q, v) in [
        (SET_FORMULA, json!({ "a": award, "i": input })),
        (
            CREATE_CRITERION,
            json!({ "i": { "awardId": award, "title": { "en": "Late" }, "weight": 1.0, "maxScore": 5 } }),
        ),
    ] {
        assert_eq!(code(&admin.raw(q, v).await), "PHASE_CLOSED");
    }

    // Every juror is reminded once, in their language.
    wait_mail(&smtp, "daniyar@example.kz", "ещё не оценена").await;
    wait_mail(&smtp, "aliya@example.kz", "not scored yet").await;
    wait_mail(&smtp, "saule@example.kz", "әлі бағаланбаған").await;

    // 50 voters: A 20, B 15, C 10, D 5; three of them also vote for E.
    for i in 0..50 {
        let voter = gql.with_token(
            &fixtures::user(&db, &format!("voter{i}@example.kz"), Kind::Verified)
                .await
                .token,
        );
        let n = match i {
            0..20 => &noms[0],
            20..35 => &noms[1],
            35..45 => &noms[2],
            _ => &noms[3],
        };
        voter.ok(CAST, json!({ "n": n })).await;
        if i < 3 {
            voter.ok(CAST, json!({ "n": e })).await;
        }
    }

    // A juror sees their assignments only, never the hidden counts.
    let a = juror3
        .ok(
            "{ viewer { jurorSeats { progress { assigned scored conflicts submitted }
                assignments(first: 10) { totalCount nodes { conflict nomination { id voteCount } } } } } }",
            json!({}),
        )
        .await;
    let seat = &a["viewer"]["jurorSeats"][0];
    assert_eq!(
        seat["progress"],
        json!({ "assigned": 4, "scored": 0, "conflicts": 0, "submitted": false })
    );
    assert_eq!(
        seat["assignments"]["totalCount"], 4,
        "the third juror's one category"
    );
    assert!(
        seat["assignments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["nomination"]["voteCount"].is_null())
    );

    // Bad scores: out of range, a criterion twice or missing, an unknown one.
    for bad in [
        json!([crit(&impact, 11), crit(&reach, 1)]),
        json!([crit(&impact, -1), crit(&reach, 1)]),
        json!([crit(&impact, 1), crit(&impact, 2), crit(&reach, 1)]),
        json!([crit(&impact, 1)]),
    ] {
        let body = juror1.raw(SCORE, json!({ "n": noms[0], "s": bad })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
    let body = juror1
        .raw(
            SCORE,
            json!({ "n": noms[0], "s": [crit(&impact, 1), crit(&award, 1)] }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        code(&outsider.raw(SCORE, score_a.clone()).await),
        "FORBIDDEN",
        "not a juror"
    );
    assert_eq!(
        code(&gql.raw(SCORE, score_a.clone()).await),
        "UNAUTHENTICATED"
    );
    let body = juror3
        .raw(
            SCORE,
            json!({ "n": e, "s": [crit(&impact, 1), crit(&reach, 1)] }),
        )
        .await;
    assert_eq!(
        code(&body),
        "FORBIDDEN",
        "outside the juror's categories: {body}"
    );
    assert_eq!(
        code(&outsider.raw(SUBMIT, json!({ "a": award })).await),
        "FORBIDDEN"
    );

    // The scores (hand-worked below), a conflict, a change of mind before submitting.
    let scores: [(&Gql, usize, i64, i64); 11] = [
        (&juror1, 0, 8, 4),
        (&juror1, 1, 9, 5),
        (&juror1, 2, 5, 2),
        (&juror1, 3, 3, 1),
        (&juror2, 0, 6, 3),
        (&juror2, 1, 7, 4),
        (&juror2, 2, 9, 5),
        (&juror2, 3, 2, 2),
        (&juror3, 1, 10, 5),
        (&juror3, 2, 4, 3),
        (&juror3, 3, 6, 1),
    ];
    let first = juror1
        .ok(
            SCORE,
            json!({ "n": noms[0], "s": [crit(&impact, 1), crit(&reach, 1)], "c": "first look" }),
        )
        .await;
    let score_id = first["scoreNomination"]["id"].as_str().unwrap().to_owned();
    for (juror, n, s1, s2) in scores {
        juror
            .ok(
                SCORE,
                json!({ "n": noms[n], "s": [crit(&impact, s1), crit(&reach, s2)] }),
            )
            .await;
    }
    let again = juror1
        .ok(
            SCORE,
            json!({ "n": noms[0], "s": [crit(&impact, 8), crit(&reach, 4)] }),
        )
        .await;
    assert_eq!(
        again["scoreNomination"]["id"],
        json!(score_id),
        "replaced, not added"
    );
    assert!(close_to(&again["scoreNomination"]["total"], 0.8));
    for (juror, s1, s2) in [(&juror1, 10, 5), (&juror2, 5, 5)] {
        juror
            .ok(
                SCORE,
                json!({ "n": e, "s": [crit(&impact, s1), crit(&reach, s2)] }),
            )
            .await;
    }
    // The third juror scored A, then declares a conflict: the score goes.
    juror3
        .ok(
            SCORE,
            json!({ "n": noms[0], "s": [crit(&impact, 10), crit(&reach, 5)] }),
        )
        .await;
    let c = juror3
        .ok(CONFLICT, json!({ "n": noms[0], "r": "My cousin runs it" }))
        .await;
    assert_eq!(c["declareConflict"]["conflict"], true);
    assert_eq!(c["declareConflict"]["score"], Value::Null);
    assert_eq!(
        code(
            &juror3
                .raw(
                    SCORE,
                    json!({ "n": noms[0], "s": [crit(&impact, 1), crit(&reach, 1)] })
                )
                .await
        ),
        "CONFLICT"
    );

    // Jurors never see each other's scores; admins see everyone's progress.
    let other = juror2
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": score_id }),
        )
        .await;
    assert_eq!(other["node"], Value::Null);
    let own = juror1
        .ok("query($id: ID!) { node(id: $id) { ... on JuryScore { total comment criteria { score } } } }", json!({ "id": score_id }))
        .await;
    assert_eq!(
        own["node"]["criteria"],
        json!([{ "score": 8 }, { "score": 4 }])
    );
    let seen = juror2
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": j1["inviteJuror"]["id"] }),
        )
        .await;
    assert_eq!(seen["node"], Value::Null, "another juror's seat");
    let progress = admin
        .ok("query($s: String!) { award(slug: $s) { jurors(first: 10) { totalCount nodes { displayName acceptedAt progress { assigned scored conflicts submitted } } } } }", json!({ "s": slug }))
        .await;
    let p: Vec<&Value> = progress["award"]["jurors"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["progress"])
        .collect();
    assert_eq!(
        *p[0],
        json!({ "assigned": 5, "scored": 5, "conflicts": 0, "submitted": false })
    );
    assert_eq!(
        *p[2],
        json!({ "assigned": 4, "scored": 3, "conflicts": 1, "submitted": false })
    );

    // Submitting locks; a removed juror would be fine, a submitted one can't be removed.
    for juror in [&juror1, &juror2, &juror3] {
        let s = juror.ok(SUBMIT, json!({ "a": award })).await;
        assert_eq!(s["submitJuryScores"]["progress"]["submitted"], true);
    }
    assert_eq!(
        code(&juror1.raw(SCORE, score_a.clone()).await),
        "PHASE_CLOSED"
    );
    assert_eq!(
        code(
            &juror1
                .raw(CONFLICT, json!({ "n": noms[1], "r": "late" }))
                .await
        ),
        "PHASE_CLOSED"
    );
    assert_eq!(
        code(
            &admin
                .raw(
                    "mutation($id: ID!) { removeJuror(id: $id) { id } }",
                    json!({ "id": j2_id })
                )
                .await
        ),
        "PHASE_CLOSED"
    );

    // Freezing waits for voting to close.
    assert_eq!(
        code(&admin.raw(FREEZE, json!({ "a": award })).await),
        "PHASE_CLOSED"
    );
    let t = chrono::Utc::now();
    set_dates(
        &db,
        &award,
        [
            t - chrono::Duration::hours(5),
            t - chrono::Duration::hours(4),
            t - chrono::Duration::hours(3),
            t - chrono::Duration::seconds(1),
        ],
    )
    .await;
    assert_eq!(
        code(&juror1.raw(FREEZE, json!({ "a": award })).await),
        "FORBIDDEN"
    );
    let frozen = admin.ok(FREEZE, json!({ "a": award })).await["freezeResults"].clone();
    assert_eq!(frozen["votesCounted"], 53);
    assert_eq!(frozen["votesExcluded"], 0);
    assert_eq!(
        frozen["frozenBy"]["id"],
        json!(birgemiz_tests_id("User", admin_user.id))
    );
    let again = admin.ok(FREEZE, json!({ "a": award })).await;
    assert_eq!(
        again["freezeResults"]["sha256"], frozen["sha256"],
        "freezing again changes nothing"
    );

    // The document is served as the bytes that hash to sha256, cacheable forever.
    let url = frozen["url"].as_str().unwrap();
    let path = &url[url.find("/results/").expect("a /results/ url")..];
    let resp = reqwest::get(api.url(path)).await.expect("GET snapshot");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    assert_eq!(
        birgemiz_schema::results::sha256_hex(&bytes),
        frozen["sha256"].as_str().unwrap()
    );
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        birgemiz_schema::results::canonical_json(&doc).as_bytes(),
        &bytes[..],
        "canonical"
    );
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        !text.contains("example.kz") && !text.contains("cousin"),
        "jurors are anonymous numbers"
    );
    assert_eq!(doc["jurors"].as_array().unwrap().len(), 3);
    assert_eq!(
        doc["conflicts"],
        json!([{ "juror": 3, "nomination": raw_id(&noms[0]) }])
    );
    let bad_hash = reqwest::get(api.url(&format!("/results/{}.json", "0".repeat(64))))
        .await
        .unwrap();
    assert_eq!(bad_hash.status(), 404);

    // Not published yet: no final results.
    let before = gql.ok(FINAL, json!({ "slug": slug })).await;
    assert_eq!(before["award"]["categories"][0]["finalResults"], json!([]));
    assert_eq!(
        before["award"]["resultSnapshot"]["sha256"], frozen["sha256"],
        "public once frozen"
    );
    assert_eq!(
        before["award"]["resultSnapshot"]["frozenBy"],
        Value::Null,
        "frozenBy is for admins"
    );

    let p = admin.ok(PUBLISH, json!({ "a": award })).await;
    assert_eq!(p["publishResults"]["phase"], "RESULTS");

    // By hand (totals = 2/3·impact/10 + 1/3·reach/5):
    //   juror 1: A .8, B .9333, C .4667, D .2667, E 1;  juror 2: A .6, B .7333, C .9333, D .2667, E .8667;
    //   juror 3: A conflict, B 1, C .4667, D .4667.
    //   Jury means: A .7 (2 jurors), B .8889, C .6222, D .3333 → jury ranks B 1, A 2, C 3, D 4.
    //   Public: A 20, B 15, C 10, D 5 → ranks 1–4. Points 5/4/3/2/1, half each:
    //   A 2.5 + 2 = 4.5, B 2 + 2.5 = 4.5, C 1.5 + 1.5 = 3, D 1 + 1 = 2: A and B tie for first.
    let r = gql.ok(FINAL, json!({ "slug": slug })).await;
    let lines = r["award"]["categories"][0]["finalResults"]
        .as_array()
        .unwrap()
        .clone();
    let got: Vec<(i64, String, i64, i64, i64, i64)> = lines
        .iter()
        .map(|l| {
            (
                l["rank"].as_i64().unwrap(),
                l["nomination"]["nomineeName"].as_str().unwrap().to_owned(),
                l["publicVotes"].as_i64().unwrap(),
                l["publicRank"].as_i64().unwrap(),
                l["juryRank"].as_i64().unwrap(),
                l["jurorsScored"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "Nominee A".into(), 20, 1, 2, 2),
            (1, "Nominee B".into(), 15, 2, 1, 3),
            (3, "Nominee C".into(), 10, 3, 3, 3),
            (4, "Nominee D".into(), 5, 4, 4, 3),
        ]
    );
    for (l, score, jury) in [
        (0, 4.5, 0.7),
        (1, 4.5, 8.0 / 9.0),
        (2, 3.0, 0.56 / 0.9),
        (3, 2.0, 1.0 / 3.0),
    ] {
        assert!(close_to(&lines[l]["score"], score), "{:?}", lines[l]);
        assert!(close_to(&lines[l]["juryScore"], jury), "{:?}", lines[l]);
    }
    let e_line = &r["award"]["categories"][1]["finalResults"][0];
    assert_eq!(
        (e_line["rank"].as_i64(), e_line["publicVotes"].as_i64()),
        (Some(1), Some(3))
    );
    assert!(close_to(&e_line["score"], 5.0));
    assert_eq!(
        e_line["jurorsScored"], 2,
        "the third juror does not score the second category"
    );

    // The verifier: the published award matches, a tampered copy does not.
    let (ok, out) = run_verifier(&api.url(path));
    assert!(ok && out.contains("MATCH"), "{out}");
    let dir = std::env::temp_dir().join(format!(
        "birgemiz-results-{}",
        birgemiz_tests::unique_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copy.json");
    std::fs::write(&file, &bytes).unwrap();
    let (ok, _) = run_verifier(file.to_str().unwrap());
    assert!(ok, "an exact copy verifies");
    let tampered = text.replacen("\"votes\":20", "\"votes\":2", 1);
    assert_ne!(tampered, text);
    std::fs::write(&file, &tampered).unwrap();
    let (ok, out) = run_verifier(file.to_str().unwrap());
    assert!(!ok && out.contains("MISMATCH"), "a tampered copy: {out}");
    std::fs::remove_dir_all(&dir).ok();

    // The announcement lists each category's winners, ties included, in each juror's language.
    let (t, _) = wait_mail(&smtp, "daniyar@example.kz", "Победители в каждой категории").await;
    assert!(
        t.contains("Nominee A") && t.contains("Nominee B") && t.contains("Nominee E"),
        "{t}"
    );
    assert!(!t.contains("Nominee C"), "{t}");
    assert!(
        t.contains(&format!(
            "https://front.test/awards/{slug}#nomination-{}",
            raw_id(&noms[1])
        )),
        "{t}"
    );
    let (t, _) = wait_mail(&smtp, "aliya@example.kz", "The winners of each category").await;
    assert!(t.contains("Nominee A") && t.contains("Nominee B"), "{t}");
    let (t, _) = wait_mail(&smtp, "saule@example.kz", "Әр санаттың жеңімпаздары").await;
    assert!(t.contains("Nominee A") && t.contains("Nominee B"), "{t}");
    // One reminder each, whatever the schedule's ticks.
    let all = smtp.messages();
    for (to, needle) in [
        ("daniyar@example.kz", "ещё не оценена"),
        ("aliya@example.kz", "not scored yet"),
        ("saule@example.kz", "әлі бағаланбаған"),
    ] {
        assert_eq!(mails_to(&all, to, needle).len(), 1, "{to}");
    }

    // From now on nothing that feeds the results changes.
    let refused = [
        (&juror1, SCORE, score_a.clone()),
        (&juror3, CONFLICT, json!({ "n": noms[1], "r": "late" })),
        (
            &admin,
            INVITE,
            json!({ "a": award, "e": "late@example.kz" }),
        ),
        (
            &admin,
            "mutation($id: ID!) { removeJuror(id: $id) { id } }",
            json!({ "id": j2_id }),
        ),
        (&admin, SET_FORMULA, json!({ "a": award, "i": input })),
        (
            &admin,
            CREATE_CRITERION,
            json!({ "i": { "awardId": award, "title": { "en": "Late" }, "weight": 1.0, "maxScore": 5 } }),
        ),
        (
            &admin,
            "mutation($id: ID!, $i: UpdateJudgingCriterionInput!) { updateJudgingCriterion(id: $id, input: $i) { id } }",
            json!({ "id": impact, "i": { "weight": 5.0 } }),
        ),
        (&admin, MODERATE, json!({ "id": noms[3], "d": "REJECT" })),
        (&outsider, CAST, json!({ "n": noms[3] })),
    ];
    for (who, q, v) in refused {
        let body = who.raw(q, v.clone()).await;
        assert_eq!(code(&body), "PHASE_CLOSED", "{v}: {body}");
    }
    let after = gql.ok(FINAL, json!({ "slug": slug })).await;
    assert_eq!(after["award"]["resultSnapshot"]["sha256"], frozen["sha256"]);
}

/// The global ID of a row, as the API writes it.
fn birgemiz_tests_id(ty: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

/// An award without a jury keeps working as before: publishResults freezes first, and the final
/// ranking is the vote order.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_jury_publishing_freezes_the_public_vote() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let admin = gql.with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let nominator = gql.with_token(
        &fixtures::user(&db, "n@example.kz", Kind::Verified)
            .await
            .token,
    );
    let a = admin
        .ok(
            crate::awards_common::CREATE_AWARD,
            json!({ "input": award_input("Plain", [-3600, 3600, 7200, 10800], false) }),
        )
        .await;
    let award = a["createAward"]["id"].as_str().unwrap().to_owned();
    let slug = a["createAward"]["slug"].as_str().unwrap().to_owned();
    let cat = admin
        .ok(
            crate::awards_common::CREATE_CATEGORY,
            json!({ "input": { "awardId": award, "title": { "en": "C" } } }),
        )
        .await["createAwardCategory"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let x = submit(&nominator, &cat, "X").await;
    let y = submit(&nominator, &cat, "Y").await;
    for id in [&x, &y] {
        admin
            .ok(MODERATE, json!({ "id": id, "d": "APPROVE" }))
            .await;
    }
    open_voting(&admin, &award, 3600).await;
    let mut voters = Vec::new();
    for i in 0..4 {
        let u = fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await;
        let v = gql.with_token(&u.token);
        v.ok(CAST, json!({ "n": if i == 0 { &x } else { &y } }))
            .await;
        voters.push(u);
    }
    // One of Y's voters is quarantined (the integrity issue's mutation writes these rows): the
    // freeze leaves that vote out and says so.
    exec(
        &db,
        &format!(
            "INSERT INTO vote_quarantines (category_id, user_id, reason, signal_id, signal_kind)
             VALUES ({c}, {}, 'test', {c} << 20, 'BURST')",
            voters[3].id,
            c = raw_id(&cat),
        ),
    )
    .await;
    assert_eq!(
        code(&admin.raw(PUBLISH, json!({ "a": award })).await),
        "PHASE_CLOSED"
    );
    close_voting(&db, &award, 5).await;
    admin.ok(PUBLISH, json!({ "a": award })).await;
    let r = gql.ok(FINAL, json!({ "slug": slug })).await;
    assert_eq!(r["award"]["resultSnapshot"]["votesCounted"], 3);
    let excluded = admin
        .ok(
            "query($s: String!) { award(slug: $s) { resultSnapshot { votesExcluded } } }",
            json!({ "s": slug }),
        )
        .await;
    assert_eq!(excluded["award"]["resultSnapshot"]["votesExcluded"], 1);
    let lines = r["award"]["categories"][0]["finalResults"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(lines[0]["nomination"]["nomineeName"], "Y");
    assert_eq!(lines[0]["juryScore"], Value::Null);
    assert!(close_to(&lines[0]["score"], 2.0 / 3.0));
    assert_eq!(lines[1]["rank"], 2);
}

/// A juror who has not submitted holds the freeze back until removed; removing takes the seat's
/// scores with it.
#[tokio::test(flavor = "multi_thread")]
async fn freeze_waits_for_every_juror_or_their_removal() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let admin = gql.with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let (award, _cat) = nominating_award(&admin, "Held", false).await;
    let j = admin
        .ok(INVITE, json!({ "a": award, "e": "slow@example.kz" }))
        .await;
    let juror = j["inviteJuror"]["id"].as_str().unwrap().to_owned();
    close_voting(&db, &award, 5).await;
    assert_eq!(
        code(&admin.raw(FREEZE, json!({ "a": award })).await),
        "CONFLICT"
    );
    admin
        .ok(
            "mutation($id: ID!) { removeJuror(id: $id) { id } }",
            json!({ "id": juror }),
        )
        .await;
    let f = admin.ok(FREEZE, json!({ "a": award })).await;
    assert_eq!(f["freezeResults"]["votesCounted"], 0);
}
