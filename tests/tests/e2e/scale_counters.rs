//! The counters the front page and the large lists' totals read (issue 20) agree with a live
//! count of the rows after every kind of change: inserts, status changes, concurrent decisions on
//! one volunteer's applications, deletes that cascade.

use birgemiz_schema::stats;
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::awards_common::{MODERATE, nominating_award, submit};
use crate::public_support::{CREATE_PROJECT, count, exec, org};

const STATS: &str = "{ stats { organizationCount projectCount volunteerCount applicationCount } }";
const APPLY: &str = "mutation($p: ID!) { applyToProject(projectId: $p) { id status } }";
const DECIDE: &str =
    "mutation($id: ID!, $a: Boolean!) { decideApplication(id: $id, accept: $a) { status } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawApplication(id: $id) { status } }";

/// Every counter of the `platform_counters` migration equals what counting the rows gives; the
/// front page's `stats` (through the api) equals the live numbers.
async fn assert_counters_match(db: &TestDb, gql: &Gql) {
    let live = stats::platform_live(&db.conn().await).await.expect("live");
    let shown = gql.ok(STATS, json!({})).await["stats"].clone();
    assert_eq!(
        shown,
        json!({
            "organizationCount": live.organizations,
            "projectCount": live.published_projects,
            "volunteerCount": live.volunteers,
            "applicationCount": live.applications,
        }),
        "stats against a live count"
    );
    for (what, mismatches) in [
        (
            "volunteer_accepted_counts",
            "SELECT count(*) AS n FROM (
               (SELECT volunteer_id, count(*) FROM applications WHERE status = 'ACCEPTED' GROUP BY 1
                EXCEPT SELECT user_id, accepted FROM volunteer_accepted_counts)
               UNION ALL
               (SELECT user_id, accepted FROM volunteer_accepted_counts WHERE accepted > 0
                EXCEPT SELECT volunteer_id, count(*) FROM applications WHERE status = 'ACCEPTED' GROUP BY 1)) x",
        ),
        (
            "project_facet_counts",
            "SELECT count(*) AS n FROM (
               (SELECT status, direction, country, lower(region), count(*) FROM projects GROUP BY 1, 2, 3, 4
                EXCEPT SELECT status, direction, country, region, projects FROM project_facet_counts)
               UNION ALL
               (SELECT status, direction, country, region, projects FROM project_facet_counts WHERE projects > 0
                EXCEPT SELECT status, direction, country, lower(region), count(*) FROM projects GROUP BY 1, 2, 3, 4)) x",
        ),
        (
            "nomination_counts",
            "SELECT count(*) AS n FROM (
               (SELECT category_id, status, count(*) FROM nominations GROUP BY 1, 2
                EXCEPT SELECT category_id, status, nominations FROM nomination_counts)
               UNION ALL
               (SELECT category_id, status, nominations FROM nomination_counts WHERE nominations > 0
                EXCEPT SELECT category_id, status, count(*) FROM nominations GROUP BY 1, 2)) x",
        ),
        (
            "organizations.published_project_count",
            "SELECT count(*) AS n FROM organizations o
             WHERE published_project_count <> (SELECT count(*) FROM projects p
                                               WHERE p.organization_id = o.id AND p.status = 'PUBLISHED')",
        ),
    ] {
        assert_eq!(count(db, mismatches).await, 0, "{what} against a live count");
    }
}

async fn project(gql: &Gql, org_id: &Value, title: &str, direction: &str, region: &str) -> Value {
    let p = gql
        .ok(
            CREATE_PROJECT,
            json!({ "i": { "organizationId": org_id, "title": { "en": title },
                           "direction": direction, "region": region } }),
        )
        .await["createProject"]["id"]
        .clone();
    gql.ok(
        "mutation($id: ID!) { publishProject(id: $id) { status } }",
        json!({ "id": p }),
    )
    .await;
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_follow_every_change_including_concurrent_ones() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let client = api.client();
    let manager = fixtures::user(&db, "manager@example.kz", Kind::Verified).await;
    let mgr = client.with_token(&manager.token);
    assert_counters_match(&db, &client).await;

    let o = org(&mgr, "Counted", "NGO").await;
    let other = org(&mgr, "Other", "CLUB").await;
    let projects = [
        project(&mgr, &o["id"], "A", "SOCIAL", "Almaty").await,
        project(&mgr, &o["id"], "B", "SOCIAL", "almaty").await,
        project(&mgr, &other["id"], "C", "ANIMALS", "Astana").await,
    ];
    // A draft counts in its facet only.
    mgr.ok(
        CREATE_PROJECT,
        json!({ "i": { "organizationId": o["id"], "title": { "en": "Draft" }, "direction": "SOCIAL" } }),
    )
    .await;
    assert_counters_match(&db, &client).await;

    // Eight volunteers apply to every project at once.
    let mut volunteers = Vec::new();
    for i in 0..8 {
        let u = fixtures::user(&db, &format!("v{i}@example.kz"), Kind::Verified).await;
        volunteers.push(client.with_token(&u.token));
    }
    let applied = join_all(volunteers.iter().flat_map(|v| {
        projects
            .iter()
            .map(move |p| async move { v.ok(APPLY, json!({ "p": p })).await })
    }))
    .await;
    let ids: Vec<Value> = applied
        .iter()
        .map(|a| a["applyToProject"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 24);
    assert_counters_match(&db, &client).await;

    // Every application decided at once, each volunteer's three among them: accepted ones of
    // the same volunteer race on that volunteer's count.
    join_all(ids.iter().enumerate().map(|(i, id)| {
        let mgr = &mgr;
        async move { mgr.ok(DECIDE, json!({ "id": id, "a": i % 4 != 3 })).await }
    }))
    .await;
    assert_counters_match(&db, &client).await;
    let live = stats::platform_live(&db.conn().await).await.unwrap();
    assert_eq!(live.volunteers, 8);

    // Minds changed at once: some accepted ones declined, declined ones accepted, and
    // withdrawals by the volunteers themselves.
    join_all(ids.iter().enumerate().map(|(i, id)| {
        let (mgr, v) = (&mgr, &volunteers[i / 3]);
        async move {
            match i % 4 {
                0 => mgr.ok(DECIDE, json!({ "id": id, "a": false })).await,
                3 => mgr.ok(DECIDE, json!({ "id": id, "a": true })).await,
                1 if i % 3 == 0 => v.ok(WITHDRAW, json!({ "id": id })).await,
                _ => Value::Null,
            }
        }
    }))
    .await;
    assert_counters_match(&db, &client).await;

    // The catalogue's and an organization's totals, read from the counters.
    let catalogue = client
        .ok(
            r#"query($o: ID!, $slug: String!) {
                 social: projects(filter: { direction: SOCIAL, region: "ALMATY" }) { totalCount }
                 animals: projects(filter: { direction: ANIMALS }) { totalCount }
                 ofOrg: projects(filter: { organizationId: $o }) { totalCount }
                 organization(slug: $slug) { projects(first: 1) { totalCount nodes { id } } } }"#,
            json!({ "o": o["id"], "slug": o["slug"] }),
        )
        .await;
    assert_eq!(catalogue["social"]["totalCount"], 2);
    assert_eq!(catalogue["animals"]["totalCount"], 1);
    assert_eq!(catalogue["ofOrg"]["totalCount"], 2);
    assert_eq!(catalogue["organization"]["projects"]["totalCount"], 2);

    // A project archived, another moved to another direction and region, a volunteer's
    // applications deleted, an organization deleted with its projects (and their applications).
    mgr.ok(
        "mutation($id: ID!) { archiveProject(id: $id) { status } }",
        json!({ "id": projects[0] }),
    )
    .await;
    assert_counters_match(&db, &client).await;
    exec(
        &db,
        "UPDATE projects SET direction = 'MEDIA', region = 'Shymkent' WHERE title->>'en' = 'C';
         DELETE FROM applications WHERE volunteer_id = (SELECT id FROM users WHERE email = 'v1@example.kz');",
    )
    .await;
    assert_counters_match(&db, &client).await;
    exec(
        &db,
        "DELETE FROM organizations WHERE name->>'en' = 'Counted'",
    )
    .await;
    assert_counters_match(&db, &client).await;
    let after = stats::platform_live(&db.conn().await).await.unwrap();
    assert_eq!(after.organizations, 1);
    assert_eq!(after.published_projects, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn nomination_totals_follow_submission_and_moderation() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let client = api.client();
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let admin = client.with_token(&admin.token);
    let mut nominators = Vec::new();
    for i in 0..6 {
        let u = fixtures::user(&db, &format!("n{i}@example.kz"), Kind::Verified).await;
        nominators.push(client.with_token(&u.token));
    }
    let (_, category) = nominating_award(&admin, "Counted award", true).await;
    let submitted = join_all(
        nominators
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let category = &category;
                async move { submit(n, category, &format!("Nominee {i}")).await }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    assert_counters_match(&db, &client).await;
    join_all(submitted.iter().enumerate().map(|(i, id)| {
        let admin = &admin;
        async move {
            let d = if i % 3 == 0 { "REJECT" } else { "APPROVE" };
            admin.ok(MODERATE, json!({ "id": id, "d": d })).await
        }
    }))
    .await;
    assert_counters_match(&db, &client).await;
    let totals = client
        .ok(
            r#"query($c: ID!) { node(id: $c) { ... on AwardCategory {
                 nominations(first: 1) { totalCount } } } }"#,
            json!({ "c": category }),
        )
        .await;
    assert_eq!(totals["node"]["nominations"]["totalCount"], 4);
}
