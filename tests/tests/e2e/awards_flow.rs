//! An award from creation to published results over HTTP, with each rule's error code, and the
//! phase rules a second either side of each date.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis, api::test_config};
use chrono::{Duration, Utc};
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::awards_common::*;

async fn outbox_count(db: &TestDb, kind: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE kind = $1")
        .bind::<diesel::sql_types::Text, _>(kind)
        .get_result(&mut db.conn().await)
        .await
        .expect("count outbox");
    n.n
}

#[tokio::test(flavor = "multi_thread")]
async fn award_from_nomination_to_results() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let anon = api.client();
    let admin = api.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let alice_user = fixtures::user(&db, "alice@example.kz", Kind::Verified).await;
    let alice = api.client().with_token(&alice_user.token);
    let bob = api.client().with_token(
        &fixtures::user(&db, "bob@example.kz", Kind::Verified)
            .await
            .token,
    );
    let carol = api.client().with_token(
        &fixtures::user(&db, "carol@example.kz", Kind::Verified)
            .await
            .token,
    );
    let unverified = api.client().with_token(
        &fixtures::user(&db, "u@example.kz", Kind::Unverified)
            .await
            .token,
    );

    // Admins only, dates in order.
    let input = award_input("Volunteer of the Year", [-3600, 3600, 7200, 10800], false);
    assert_eq!(
        alice
            .error_code(CREATE_AWARD, json!({ "input": input }))
            .await,
        "FORBIDDEN"
    );
    let bad = award_input("Bad", [-3600, -7200, 7200, 10800], false);
    let body = admin.raw(CREATE_AWARD, json!({ "input": bad })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "nominationClosesAt"
    );

    let (award, category) = nominating_award(&admin, "Volunteer of the Year", false).await;
    let q = "query($slug: String!) { award(slug: $slug) { id title phase countries
                 categories { id title voteCount results { rank } } } }";
    let d = anon
        .with_locale("ru-RU")
        .ok(q, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    assert_eq!(d["award"]["id"], award.as_str());
    assert_eq!(d["award"]["title"], "Volunteer of the Year (ru)");
    assert_eq!(d["award"]["phase"], "NOMINATION");
    assert_eq!(d["award"]["categories"][0]["id"], category.as_str());
    assert_eq!(d["award"]["categories"][0]["voteCount"], json!(null));

    // Nominations: verified users, award countries, one per normalized nominee.
    let nominate = |name: &str, country: &str| {
        json!({ "input": { "categoryId": category, "nomineeName": name, "nomineeKind": "PERSON",
                           "statement": "Two winters of help", "country": country } })
    };
    assert_eq!(
        unverified
            .error_code(SUBMIT, nominate("Aigerim Bekova", "KZ"))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        anon.error_code(SUBMIT, nominate("Aigerim Bekova", "KZ"))
            .await,
        "UNAUTHENTICATED"
    );
    let body = alice.raw(SUBMIT, nominate("Aigerim Bekova", "DE")).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "country");
    let aigerim = submit(&alice, &category, "Aigerim Bekova").await;
    assert_eq!(
        bob.error_code(SUBMIT, nominate("  aigerim   BEKOVA. ", "KZ"))
            .await,
        "CONFLICT"
    );
    let ivan = submit(&bob, &category, "Ivan Petrov").await;
    let dana = submit(&bob, &category, "Dana Serik").await;
    let spam = submit(&carol, &category, "Spam Nominee").await;
    assert_eq!(outbox_count(&db, "NOMINATION_RECEIPT").await, 4);

    // Moderation queue: admins only.
    let cat_noms = "query($slug: String!, $s: NominationStatus) { award(slug: $slug) {
        nominations(status: $s) { totalCount nodes { id status } }
        categories { nominations(status: $s) { totalCount } } } }";
    let slug = json!({ "slug": "volunteer-of-the-year-2026", "s": "PENDING" });
    assert_eq!(alice.error_code(cat_noms, slug.clone()).await, "FORBIDDEN");
    let d = admin.ok(cat_noms, slug.clone()).await;
    assert_eq!(d["award"]["nominations"]["totalCount"], 4);
    let q = "query($slug: String!) { award(slug: $slug) { nominations { totalCount } } }";
    let d = alice
        .ok(q, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    assert_eq!(d["award"]["nominations"], json!(null));

    for id in [&aigerim, &ivan, &dana] {
        admin
            .ok(MODERATE, json!({ "id": id, "d": "APPROVE" }))
            .await;
    }
    admin
        .ok(
            MODERATE,
            json!({ "id": spam, "d": "REJECT", "note": "Not a real person" }),
        )
        .await;
    assert_eq!(outbox_count(&db, "NOMINATION_DECISION").await, 4);
    assert_eq!(
        alice
            .error_code(MODERATE, json!({ "id": ivan, "d": "REJECT" }))
            .await,
        "FORBIDDEN"
    );
    let note =
        "query { viewer { nominations { nodes { status moderationNote submittedBy { id } } } } }";
    let d = carol.ok(note, json!({})).await;
    assert_eq!(
        d["viewer"]["nominations"]["nodes"][0]["moderationNote"],
        "Not a real person"
    );
    let node_note = "query($slug: String!) { award(slug: $slug) { categories {
        nominations { nodes { nomineeName moderationNote submittedBy { id } } } } } }";
    let d = anon
        .ok(node_note, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    let nodes = &d["award"]["categories"][0]["nominations"]["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 3, "approved only: {d}");
    assert_eq!(nodes[0]["nomineeName"], "Aigerim Bekova", "NAME order");
    assert_eq!(nodes[0]["submittedBy"], json!(null));
    // A nomination's statement is a long text: left out of a list unless a node field reads it,
    // and there whether read directly or through a fragment of an edge.
    let statements = "query($slug: String!) { award(slug: $slug) { categories {
        nominations { nodes { nomineeName statement } edges { node { ...S } } } } } }
        fragment S on Nomination { statement }";
    let d = anon
        .ok(statements, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    let nominations = &d["award"]["categories"][0]["nominations"];
    assert_eq!(nominations["nodes"][0]["nomineeName"], "Aigerim Bekova");
    let statement = "Organised winter help for elderly people";
    assert_eq!(nominations["nodes"][0]["statement"], statement);
    assert_eq!(nominations["edges"][0]["node"]["statement"], statement);

    // Not voting yet.
    assert_eq!(
        alice.error_code(CAST, json!({ "n": ivan })).await,
        "PHASE_CLOSED"
    );
    open_voting(&admin, &award, 3600).await;

    // Frozen once voting opened.
    assert_eq!(
        admin
            .error_code(
                CREATE_CATEGORY,
                json!({ "input": { "awardId": award, "title": { "en": "Late" } } })
            )
            .await,
        "PHASE_CLOSED"
    );
    assert_eq!(
        admin
            .error_code(
                UPDATE_AWARD,
                json!({ "id": award, "input": { "votingClosesAt": at(99999) } })
            )
            .await,
        "PHASE_CLOSED"
    );
    assert_eq!(
        admin
            .error_code(MODERATE, json!({ "id": spam, "d": "APPROVE" }))
            .await,
        "PHASE_CLOSED"
    );
    assert_eq!(
        alice
            .error_code(
                "mutation($id: ID!) { withdrawNomination(id: $id) { id } }",
                json!({ "id": aigerim })
            )
            .await,
        "PHASE_CLOSED"
    );
    // Title changes are still fine.
    admin
        .ok(
            UPDATE_AWARD,
            json!({ "id": award, "input": { "title": { "en": "Volunteer of the Year", "ru": "Волонтёр года" } } }),
        )
        .await;

    // Voting.
    assert_eq!(
        unverified.error_code(CAST, json!({ "n": ivan })).await,
        "FORBIDDEN"
    );
    let body = alice.raw(CAST, json!({ "n": spam })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let v1 = alice.ok(CAST, json!({ "n": ivan })).await["castVote"]["id"].clone();
    let v2 = alice.ok(CAST, json!({ "n": aigerim })).await["castVote"].clone();
    assert_eq!(v2["id"], v1, "a move keeps the vote id");
    assert_eq!(v2["nomination"]["id"], aigerim.as_str());
    let v3 = alice.ok(CAST, json!({ "n": aigerim })).await["castVote"]["id"].clone();
    assert_eq!(v3, v1, "the same nomination again changes nothing");
    bob.ok(CAST, json!({ "n": ivan })).await;
    carol.ok(CAST, json!({ "n": dana })).await;

    let viewer_vote = "query($slug: String!) { award(slug: $slug) { categories {
        voteCount viewerVote { id nomination { id voteCount } }
        nominations(orderBy: NAME) { nodes { voteCount } } } } }";
    let d = alice
        .ok(viewer_vote, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    let c = &d["award"]["categories"][0];
    assert_eq!(c["viewerVote"]["id"], v1);
    assert_eq!(c["voteCount"], json!(null), "hidden without liveCounts");
    assert_eq!(c["viewerVote"]["nomination"]["voteCount"], json!(null));
    let most = "query($slug: String!) { award(slug: $slug) { categories {
        nominations(orderBy: MOST_VOTES) { totalCount } } } }";
    let body = alice
        .raw(most, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    // Hidden counts keep the order hidden without failing the page (see rules_awards).
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["extensions"]["warnings"][0]["code"],
        "ORDER_BY_NAME_WHILE_COUNTS_HIDDEN"
    );
    let d = alice
        .ok(
            "query { viewer { votes { id category { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["viewer"]["votes"][0]["id"], v1);

    // Retract and vote again: a new vote.
    let retract = "mutation($c: ID!) { retractVote(categoryId: $c) { id viewerVote { id } } }";
    let d = carol.ok(retract, json!({ "c": category })).await;
    assert_eq!(d["retractVote"]["viewerVote"], json!(null));
    carol.ok(CAST, json!({ "n": aigerim })).await;
    assert_recount_matches(&db, &category).await;

    // Results: only after voting closed, admins only; ties share a rank.
    let publish = "mutation($a: ID!) { publishResults(awardId: $a) { phase resultsPublishedAt } }";
    assert_eq!(
        admin.error_code(publish, json!({ "a": award })).await,
        "PHASE_CLOSED"
    );
    close_voting(&db, &award, 3).await;
    assert_eq!(
        bob.error_code(CAST, json!({ "n": dana })).await,
        "PHASE_CLOSED"
    );
    assert_eq!(
        bob.error_code(publish, json!({ "a": award })).await,
        "FORBIDDEN"
    );
    let d = anon
        .ok(
            "query($slug: String!) { award(slug: $slug) { phase categories { results { rank } } } }",
            json!({ "slug": "volunteer-of-the-year-2026" }),
        )
        .await;
    assert_eq!(d["award"]["phase"], "CLOSED");
    assert_eq!(d["award"]["categories"][0]["results"], json!([]));

    // One active AWARD_UPDATES subscriber, one who wants only the digest.
    diesel::sql_query(
        "INSERT INTO email_subscriptions (email, locale, topics, status) VALUES
         ('fan@example.kz', 'ru', '{AWARD_UPDATES}', 'ACTIVE'),
         ('digest@example.kz', 'kk', '{WEEKLY_DIGEST}', 'ACTIVE'),
         ('pending@example.kz', 'kk', '{AWARD_UPDATES}', 'PENDING_CONFIRMATION')",
    )
    .execute(&mut db.conn().await)
    .await
    .expect("subscribers");
    let d = admin.ok(publish, json!({ "a": award })).await;
    assert_eq!(d["publishResults"]["phase"], "RESULTS");
    admin.ok(publish, json!({ "a": award })).await;
    assert_eq!(outbox_count(&db, "RESULTS_ANNOUNCEMENT").await, 1);

    let results = "query($slug: String!) { award(slug: $slug) { categories { voteCount
        results { rank voteCount share nomination { nomineeName } } } } }";
    let d = anon
        .ok(results, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    let c = &d["award"]["categories"][0];
    assert_eq!(c["voteCount"], 3);
    let r = c["results"].as_array().unwrap();
    let got: Vec<_> = r
        .iter()
        .map(|x| {
            (
                x["rank"].as_i64().unwrap(),
                x["nomination"]["nomineeName"].as_str().unwrap().to_owned(),
                x["voteCount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "Aigerim Bekova".to_owned(), 2),
            (2, "Ivan Petrov".to_owned(), 1),
            (3, "Dana Serik".to_owned(), 0),
        ]
    );
    assert!((r[0]["share"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    let d = anon
        .ok(most, json!({ "slug": "volunteer-of-the-year-2026" }))
        .await;
    assert_eq!(d["award"]["categories"][0]["nominations"]["totalCount"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn ties_share_a_rank_in_results() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let (admin, nominator) = admin_and_nominator(&db, &api.client()).await;
    let (award, category, noms) = voting_award(&admin, &nominator, 3, false).await;
    for (i, target) in [0, 1, 0, 1, 2].into_iter().enumerate() {
        let u = fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await;
        api.client()
            .with_token(&u.token)
            .ok(CAST, json!({ "n": noms[target] }))
            .await;
    }
    close_voting(&db, &award, 3).await;
    admin
        .ok(
            "mutation($a: ID!) { publishResults(awardId: $a) { id } }",
            json!({ "a": award }),
        )
        .await;
    let q = "query { awards { nodes { categories { id results { rank voteCount share } } } } }";
    let d = api.client().ok(q, json!({})).await;
    let c = &d["awards"]["nodes"][0]["categories"][0];
    assert_eq!(c["id"], category.as_str());
    let ranks: Vec<_> = c["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["voteCount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranks, vec![(1, 2), (1, 2), (3, 1)]);
    assert_recount_matches(&db, &category).await;
}

/// Each date a second before and after: nominating and voting open exactly at their dates.
#[tokio::test(flavor = "multi_thread")]
async fn phase_rules_at_their_boundaries() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let admin = api.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let user = api.client().with_token(
        &fixtures::user(&db, "u@example.kz", Kind::Verified)
            .await
            .token,
    );

    let nominate_in = |offsets: [i64; 4], title: &'static str| {
        let (admin, user) = (admin.clone(), user.clone());
        async move {
            let a = admin
                .ok(
                    CREATE_AWARD,
                    json!({ "input": award_input(title, offsets, false) }),
                )
                .await;
            let award = a["createAward"]["id"].as_str().unwrap().to_owned();
            let phase = a["createAward"]["phase"].as_str().unwrap().to_owned();
            let c = admin
                .ok(
                    CREATE_CATEGORY,
                    json!({ "input": { "awardId": award, "title": { "en": "C" } } }),
                )
                .await;
            let category = c["createAwardCategory"]["id"].as_str().unwrap().to_owned();
            let body = user
                .raw(
                    SUBMIT,
                    json!({ "input": { "categoryId": category, "nomineeName": "N", "nomineeKind": "PERSON",
                                       "statement": "s", "country": "RU" } }),
                )
                .await;
            (
                phase,
                body["errors"][0]["extensions"]["code"]
                    .as_str()
                    .map(str::to_owned),
            )
        }
    };
    let phase_closed = Some("PHASE_CLOSED".to_owned());
    assert_eq!(
        nominate_in([1, 3600, 7200, 9000], "Opens in a second").await,
        ("UPCOMING".into(), phase_closed.clone())
    );
    assert_eq!(
        nominate_in([-1, 3600, 7200, 9000], "Opened a second ago").await,
        ("NOMINATION".into(), None)
    );
    assert_eq!(
        nominate_in([-3600, 1, 7200, 9000], "Closes in a second").await,
        ("NOMINATION".into(), None)
    );
    assert_eq!(
        nominate_in([-3600, -1, 7200, 9000], "Closed a second ago").await,
        ("REVIEW".into(), phase_closed.clone())
    );

    // Voting: an approved nomination, then the voting dates either side of now.
    let (award, _category, noms) = voting_award(&admin, &user, 1, false).await;
    let vote = || user.raw(CAST, json!({ "n": noms[0] }));
    let retract_code = || async {
        let body = user
            .raw(
                "mutation($c: ID!) { retractVote(categoryId: $c) { id } }",
                json!({ "c": _category }),
            )
            .await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
    };
    let now = Utc::now();
    let s = Duration::seconds(1);
    let h = Duration::hours(1);
    let phase_q = "query { awards(filter: { phase: VOTING }) { totalCount } }";
    for (voting_opens, voting_closes, open) in [
        (now + s, now + h, false),
        (now - s, now + h, true),
        (now - h, now + s, true),
        (now - h, now - s, false),
    ] {
        set_dates(
            &db,
            &award,
            [
                now - h * 3,
                voting_opens - s * 2,
                voting_opens,
                voting_closes,
            ],
        )
        .await;
        let body = vote().await;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        if open {
            assert_eq!(code, None, "voting open: {body}");
            assert_eq!(retract_code().await, None);
        } else {
            assert_eq!(code, Some("PHASE_CLOSED"), "voting closed: {body}");
            assert_eq!(retract_code().await, phase_closed);
        }
        let d = api.client().ok(phase_q, json!({})).await;
        assert_eq!(d["awards"]["totalCount"], i64::from(open));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn votes_and_nominations_are_rate_limited() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = test_config(&db, &redis);
    config.rate_limits.vote_per_user = birgemiz_schema::config::RateLimit {
        max: 3,
        window_secs: 60,
    };
    config.rate_limits.nomination_per_ip = birgemiz_schema::config::RateLimit {
        max: 4,
        window_secs: 3600,
    };
    let api = TestApi::start_with(config).await;
    let admin = api.client().with_token(
        &fixtures::user(&db, "admin@example.kz", Kind::Admin)
            .await
            .token,
    );
    let a = api.client().with_token(
        &fixtures::user(&db, "a@example.kz", Kind::Verified)
            .await
            .token,
    );
    let b = api.client().with_token(
        &fixtures::user(&db, "b@example.kz", Kind::Verified)
            .await
            .token,
    );
    let (_award, _category, noms) = voting_award(&admin, &a, 2, false).await;
    // voting_award submitted 2 nominations from this address; 2 more pass, the 5th does not.
    let (_award2, category2) = nominating_award(&admin, "Second", false).await;
    submit(&a, &category2, "X").await;
    submit(&b, &category2, "Y").await;
    let body = b
        .raw(
            SUBMIT,
            json!({ "input": { "categoryId": category2, "nomineeName": "Z", "nomineeKind": "PERSON",
                               "statement": "s", "country": "KZ" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );

    for i in 0..3 {
        a.ok(CAST, json!({ "n": noms[i % 2] })).await;
    }
    let body = a.raw(CAST, json!({ "n": noms[0] })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    let retry = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry), "retryAfter {retry}");
    // Per user: another voter is not affected.
    b.ok(CAST, json!({ "n": noms[0] })).await;
}
