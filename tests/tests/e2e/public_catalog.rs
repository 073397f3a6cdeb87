//! Organizations, projects and applications over HTTP: rules, validation, the authorization
//! matrix, pagination edges, node/nodes and localization.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::{
    CREATE_ORG, CREATE_PROJECT, code, count, exec, field, nodes_of, org, outbox, published_project,
};

#[tokio::test(flavor = "multi_thread")]
async fn organization_validation_and_slugs() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let unverified = fixtures::user(&db, "new@example.kz", Kind::Unverified).await;
    let gql = api.client().with_token(&owner.token);

    let base = json!({ "name": { "kk": "Жастар ортасы", "en": "Youth Centre" }, "kind": "NGO", "country": "kz" });
    let o = gql.ok(CREATE_ORG, json!({ "i": base })).await["createOrganization"].clone();
    assert_eq!(o["slug"], "youth-centre");
    assert_eq!(o["country"], "KZ");
    assert_eq!(o["name"], "Жастар ортасы", "kk by default");
    let o2 = gql.ok(CREATE_ORG, json!({ "i": base })).await["createOrganization"].clone();
    assert_eq!(
        o2["slug"], "youth-centre-2",
        "generated slugs never collide"
    );

    let bad = |patch: Value| {
        let mut i = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    let cases = [
        (bad(json!({ "slug": "youth-centre" })), "slug"),
        (bad(json!({ "slug": "Not A Slug" })), "slug"),
        (bad(json!({ "country": "XX" })), "country"),
        (bad(json!({ "country": "KAZ" })), "country"),
        (bad(json!({ "name": { "en": "   " } })), "name"),
        (bad(json!({ "name": { "en": "x".repeat(201) } })), "name"),
        (
            bad(json!({ "description": { "ru": "x".repeat(20_001) } })),
            "description",
        ),
        (bad(json!({ "website": "javascript:alert(1)" })), "website"),
    ];
    for (vars, f) in cases {
        let body = gql.raw(CREATE_ORG, vars).await;
        assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", f), "{body}");
    }
    let body = gql.raw(CREATE_ORG, bad(json!({ "kind": "CHARITY" }))).await;
    assert!(body["errors"].is_array(), "unknown enum refused");
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM organizations").await,
        2
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM organization_managers").await,
        2
    );

    assert_eq!(
        code(&api.client().raw(CREATE_ORG, json!({ "i": base })).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(
            &api.client()
                .with_token(&unverified.token)
                .raw(CREATE_ORG, json!({ "i": base }))
                .await
        ),
        "FORBIDDEN"
    );

    // Updates: absent leaves, null clears.
    let upd = "mutation($id: ID!, $i: UpdateOrganizationInput!) { updateOrganization(id: $id, input: $i) { city region nameI18n { kk en } } }";
    gql.ok(
        upd,
        json!({ "id": o["id"], "i": { "city": "Алматы", "region": "Алматы" } }),
    )
    .await;
    let u = gql
        .ok(upd, json!({ "id": o["id"], "i": { "city": null } }))
        .await;
    assert_eq!(u["updateOrganization"]["city"], Value::Null);
    assert_eq!(u["updateOrganization"]["region"], "Алматы");
    assert_eq!(u["updateOrganization"]["nameI18n"]["en"], "Youth Centre");
    let body = gql.raw(upd, json!({ "id": "garbage", "i": {} })).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "id"));
}

const ORG_VIEW: &str =
    "query($s: String!) { organization(slug: $s) { managers { role user { email } } } }";
const PROJECT_APPS: &str = "query($s: String!) { project(slug: $s) { status applications { totalCount nodes { contactEmail volunteer { email } } } } }";

/// Each role × each restricted operation and field.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_matrix() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let manager = fixtures::user(&db, "manager@example.kz", Kind::Verified).await;
    let member = fixtures::user(&db, "member@example.kz", Kind::Verified).await;
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let anon = api.client();
    let as_owner = anon.with_token(&owner.token);
    let as_manager = anon.with_token(&manager.token);
    let as_member = anon.with_token(&member.token);
    let as_admin = anon.with_token(&admin.token);

    let o = org(&as_owner, "Matrix Org", "NGO").await;
    let add = "mutation($o: ID!, $e: String!, $r: OrganizationRole!) { addOrganizationManager(organizationId: $o, email: $e, role: $r) { role user { email } } }";
    let vars = json!({ "o": o["id"], "e": "manager@example.kz", "r": "MANAGER" });
    assert_eq!(code(&anon.raw(add, vars.clone()).await), "UNAUTHENTICATED");
    assert_eq!(code(&as_member.raw(add, vars.clone()).await), "FORBIDDEN");
    as_owner.ok(add, vars.clone()).await;
    assert_eq!(
        code(
            &as_manager
                .raw(
                    add,
                    json!({ "o": o["id"], "e": "member@example.kz", "r": "OWNER" })
                )
                .await
        ),
        "FORBIDDEN",
        "managers can't add managers"
    );

    // Organization.managers: managers and admins see it, others get null.
    for (who, sees) in [
        (&anon, false),
        (&as_member, false),
        (&as_manager, true),
        (&as_owner, true),
        (&as_admin, true),
    ] {
        let d = who.ok(ORG_VIEW, json!({ "s": o["slug"] })).await;
        assert_eq!(d["organization"]["managers"].is_array(), sees, "{d}");
    }

    // Projects: managers create; drafts hidden from the public.
    let pvars = json!({ "i": { "organizationId": o["id"], "title": { "en": "Tree planting" }, "direction": "ENVIRONMENT" } });
    assert_eq!(
        code(&as_member.raw(CREATE_PROJECT, pvars.clone()).await),
        "FORBIDDEN"
    );
    let p = as_manager.ok(CREATE_PROJECT, pvars.clone()).await["createProject"].clone();
    assert_eq!(p["status"], "DRAFT");
    for (who, sees) in [
        (&anon, false),
        (&as_member, false),
        (&as_manager, true),
        (&as_admin, true),
    ] {
        let d = who
            .ok(
                "query($s: String!) { project(slug: $s) { id } }",
                json!({ "s": p["slug"] }),
            )
            .await;
        assert_eq!(!d["project"].is_null(), sees);
        let d = who
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": p["id"] }),
            )
            .await;
        assert_eq!(!d["node"].is_null(), sees);
    }
    let drafts =
        "query($o: ID) { projects(filter: { status: DRAFT, organizationId: $o }) { totalCount } }";
    assert_eq!(
        code(&as_member.raw(drafts, json!({ "o": o["id"] })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&as_manager.raw(drafts, json!({})).await),
        "FORBIDDEN",
        "managers only within their organization"
    );
    assert_eq!(
        as_manager.ok(drafts, json!({ "o": o["id"] })).await["projects"]["totalCount"],
        1
    );
    assert_eq!(
        as_admin.ok(drafts, json!({})).await["projects"]["totalCount"],
        1
    );

    let publish = "mutation($id: ID!) { publishProject(id: $id) { status publishedAt } }";
    assert_eq!(
        code(&as_member.raw(publish, json!({ "id": p["id"] })).await),
        "FORBIDDEN"
    );
    // Applying to a draft: as if it did not exist.
    let apply = "mutation($p: ID!, $m: String) { applyToProject(projectId: $p, message: $m) { id status } }";
    assert_eq!(
        code(&as_member.raw(apply, json!({ "p": p["id"] })).await),
        "NOT_FOUND"
    );
    as_manager.ok(publish, json!({ "id": p["id"] })).await;

    let a = as_member
        .ok(apply, json!({ "p": p["id"], "m": "I have a shovel" }))
        .await["applyToProject"]
        .clone();
    assert_eq!(
        code(&as_member.raw(apply, json!({ "p": p["id"] })).await),
        "CONFLICT",
        "one per volunteer"
    );
    // Receipt to the volunteer, notice to each manager, written with the application.
    let mut mails: Vec<(String, String)> = outbox(&db)
        .await
        .into_iter()
        .map(|r| (r.kind, r.recipient))
        .collect();
    mails.sort();
    assert_eq!(
        mails,
        vec![
            ("APPLICATION_RECEIPT".into(), "member@example.kz".into()),
            ("NEW_APPLICATION_NOTICE".into(), "manager@example.kz".into()),
            ("NEW_APPLICATION_NOTICE".into(), "owner@example.kz".into()),
        ]
    );

    // Project.applications and Application.contactEmail: managers and admins only.
    for (who, sees) in [
        (&anon, false),
        (&as_member, false),
        (&as_manager, true),
        (&as_owner, true),
        (&as_admin, true),
    ] {
        let d = who.ok(PROJECT_APPS, json!({ "s": p["slug"] })).await;
        let apps = &d["project"]["applications"];
        assert_eq!(apps.is_object(), sees, "{d}");
        if sees {
            assert_eq!(apps["nodes"][0]["contactEmail"], "member@example.kz");
        }
    }
    // The application itself: its volunteer, managers and admins; null for others.
    let outsider = fixtures::user(&db, "outsider@example.kz", Kind::Verified).await;
    let as_outsider = anon.with_token(&outsider.token);
    for (who, sees) in [
        (&anon, false),
        (&as_outsider, false),
        (&as_member, true),
        (&as_manager, true),
        (&as_admin, true),
    ] {
        let d = who
            .ok(
                "query($id: ID!) { node(id: $id) { ... on Application { status contactEmail } } }",
                json!({ "id": a["id"] }),
            )
            .await;
        assert_eq!(!d["node"].is_null(), sees, "{d}");
        if std::ptr::eq(who, &as_member) {
            assert!(
                d["node"]["contactEmail"].is_null(),
                "the volunteer doesn't get the managers' view"
            );
        }
    }

    let decide = "mutation($id: ID!, $a: Boolean!) { decideApplication(id: $id, accept: $a) { status decidedAt project { volunteerCount } } }";
    assert_eq!(
        code(
            &as_member
                .raw(decide, json!({ "id": a["id"], "a": true }))
                .await
        ),
        "FORBIDDEN"
    );
    let d = as_manager
        .ok(decide, json!({ "id": a["id"], "a": true }))
        .await;
    assert_eq!(d["decideApplication"]["status"], "ACCEPTED");
    assert_eq!(d["decideApplication"]["project"]["volunteerCount"], 1);
    assert_eq!(
        outbox(&db)
            .await
            .iter()
            .filter(|r| r.kind == "APPLICATION_DECISION")
            .count(),
        1
    );

    let withdraw = "mutation($id: ID!) { withdrawApplication(id: $id) { status } }";
    assert_eq!(
        code(&as_manager.raw(withdraw, json!({ "id": a["id"] })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        as_member.ok(withdraw, json!({ "id": a["id"] })).await["withdrawApplication"]["status"],
        "WITHDRAWN"
    );
    assert_eq!(
        code(
            &as_manager
                .raw(decide, json!({ "id": a["id"], "a": false }))
                .await
        ),
        "CONFLICT",
        "no decision on a withdrawn application"
    );
    // Re-applying reopens the application (and sends a new receipt).
    assert_eq!(
        as_member.ok(apply, json!({ "p": p["id"] })).await["applyToProject"]["status"],
        "SUBMITTED"
    );
    assert_eq!(
        outbox(&db)
            .await
            .iter()
            .filter(|r| r.kind == "APPLICATION_RECEIPT")
            .count(),
        2
    );

    // User.organizations / User.applications / email: the user themself and admins.
    let user_q = "query($id: ID!) { node(id: $id) { ... on User { email organizations { role } applications { totalCount } } } }";
    let member_id = json!(base64_id("User", member.id));
    for (who, sees) in [
        (&anon, false),
        (&as_manager, false),
        (&as_member, true),
        (&as_admin, true),
    ] {
        let d = who.ok(user_q, json!({ "id": member_id })).await;
        assert_eq!(d["node"]["email"].is_string(), sees);
        assert_eq!(d["node"]["applications"].is_object(), sees);
        assert_eq!(d["node"]["organizations"].is_array(), sees);
    }
    let me = as_member
        .ok(
            "{ viewer { applications { totalCount nodes { project { slug } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["viewer"]["applications"]["totalCount"], 1);

    // Archive: only managers; archived projects take no applications.
    let archive = "mutation($id: ID!) { archiveProject(id: $id) { status } }";
    assert_eq!(
        code(&as_member.raw(archive, json!({ "id": p["id"] })).await),
        "FORBIDDEN"
    );
    as_owner.ok(archive, json!({ "id": p["id"] })).await;
    assert_eq!(
        code(&as_outsider.raw(apply, json!({ "p": p["id"] })).await),
        "CONFLICT"
    );

    // Verification: admins only.
    let verify = "mutation($id: ID!) { verifyOrganization(id: $id) { verified } }";
    assert_eq!(
        code(&as_owner.raw(verify, json!({ "id": o["id"] })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        as_admin.ok(verify, json!({ "id": o["id"] })).await["verifyOrganization"]["verified"],
        true
    );

    // Removing managers: owners (or the manager themself); the last owner stays.
    let remove = "mutation($o: ID!, $u: ID!) { removeOrganizationManager(organizationId: $o, userId: $u) { id } }";
    assert_eq!(
        code(
            &as_manager
                .raw(
                    remove,
                    json!({ "o": o["id"], "u": base64_id("User", owner.id) })
                )
                .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &as_owner
                .raw(
                    remove,
                    json!({ "o": o["id"], "u": base64_id("User", owner.id) })
                )
                .await
        ),
        "CONFLICT"
    );
    as_owner
        .ok(
            remove,
            json!({ "o": o["id"], "u": base64_id("User", manager.id) }),
        )
        .await;
    assert!(
        as_manager.ok(ORG_VIEW, json!({ "s": o["slug"] })).await["organization"]["managers"]
            .is_null()
    );
}

fn base64_id(ty: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn networks_filters_orders_and_localization() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let other = fixtures::user(&db, "other@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);
    let net = org(&gql, "National Network", "NETWORK").await;
    let a = org(&gql, "Alpha", "NGO").await;
    let b = org(&api.client().with_token(&other.token), "Beta", "CLUB").await;
    let add = "mutation($n: ID!, $m: ID!) { addNetworkMember(networkId: $n, memberId: $m) { id } }";
    gql.ok(add, json!({ "n": net["id"], "m": a["id"] })).await;
    gql.ok(add, json!({ "n": net["id"], "m": b["id"] })).await;
    let body = gql.raw(add, json!({ "n": a["id"], "m": net["id"] })).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "networkId"));
    assert_eq!(
        code(
            &api.client()
                .with_token(&other.token)
                .raw(add, json!({ "n": net["id"], "m": b["id"] }))
                .await
        ),
        "FORBIDDEN"
    );

    let d = gql
        .ok("query($s: String!) { organization(slug: $s) { members(first: 1) { totalCount nodes { name memberOf { slug } } pageInfo { hasNextPage endCursor } } } }", json!({ "s": net["slug"] }))
        .await;
    let members = &d["organization"]["members"];
    assert_eq!(members["totalCount"], 2);
    assert_eq!(members["nodes"][0]["name"], "Alpha ru", "kk missing → ru");
    assert_eq!(members["nodes"][0]["memberOf"][0]["slug"], net["slug"]);
    assert_eq!(members["pageInfo"]["hasNextPage"], true);

    let en = api.client().with_locale("en-US,en;q=0.9");
    let d = en.ok("query($m: ID) { organizations(filter: { memberOf: $m }, orderBy: NAME) { nodes { name } } }", json!({ "m": net["id"] })).await;
    assert_eq!(
        d["organizations"]["nodes"],
        json!([{ "name": "Alpha" }, { "name": "Beta" }])
    );
    let d = en
        .ok(
            "{ organizations(filter: { kind: CLUB }) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["organizations"]["nodes"], json!([{ "name": "Beta" }]));
    let d = en.ok("{ organizations(filter: { country: \"KZ\", verified: false }, orderBy: NEWEST) { totalCount nodes { name } } }", json!({})).await;
    assert_eq!(d["organizations"]["totalCount"], 3);
    assert_eq!(d["organizations"]["nodes"][0]["name"], "Beta");

    // Projects: filters and orders.
    let p1 = published_project(&gql, &a["id"], "Soon").await;
    let p2 = published_project(&gql, &a["id"], "Later").await;
    exec(&db, &format!("UPDATE projects SET starts_at = now() + interval '1 day', region = 'Almaty' WHERE slug = '{}';
                        UPDATE projects SET starts_at = now() + interval '9 days', direction = 'ANIMALS' WHERE slug = '{}';",
                        p1["slug"].as_str().unwrap(), p2["slug"].as_str().unwrap())).await;
    let q = "query($f: ProjectFilter, $o: ProjectOrder) { projects(filter: $f, orderBy: $o) { nodes { title } } }";
    let titles = |d: Value| {
        d["projects"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(en.ok(q, json!({ "o": "STARTS_SOON" })).await),
        ["Soon", "Later"]
    );
    assert_eq!(
        titles(en.ok(q, json!({ "o": "NEWEST" })).await),
        ["Later", "Soon"]
    );
    assert_eq!(
        titles(en.ok(q, json!({ "f": { "direction": "ANIMALS" } })).await),
        ["Later"]
    );
    assert_eq!(
        titles(en.ok(q, json!({ "f": { "region": "almaty" } })).await),
        ["Soon"]
    );
    assert_eq!(
        titles(
            en.ok(q, json!({ "f": { "organizationId": b["id"] } }))
                .await
        ),
        Vec::<String>::new()
    );
    let after = chrono::Utc::now() + chrono::Duration::days(3);
    assert_eq!(
        titles(
            en.ok(q, json!({ "f": { "startsAfter": after.to_rfc3339() } }))
                .await
        ),
        ["Later"]
    );
    assert_eq!(
        titles(
            en.ok(q, json!({ "f": { "startsBefore": after.to_rfc3339() } }))
                .await
        ),
        ["Soon"]
    );

    // Network removal.
    gql.ok(
        "mutation($n: ID!, $m: ID!) { removeNetworkMember(networkId: $n, memberId: $m) { id } }",
        json!({ "n": net["id"], "m": b["id"] }),
    )
    .await;
    let d = gql
        .ok(
            "query($s: String!) { organization(slug: $s) { members { totalCount } } }",
            json!({ "s": net["slug"] }),
        )
        .await;
    assert_eq!(d["organization"]["members"]["totalCount"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_edges_and_nodes() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let q = "query($n: Int, $a: String) { organizations(first: $n, after: $a, orderBy: NAME) { totalCount edges { cursor node { id slug } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

    // Empty.
    let d = gql.ok(q, json!({})).await["organizations"].clone();
    assert_eq!(d["totalCount"], 0);
    assert_eq!(d["edges"], json!([]));
    assert_eq!(
        d["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null })
    );

    exec(&db, "INSERT INTO organizations (slug, name, kind, country)
               SELECT 'o' || i, jsonb_build_object('en', 'Org ' || i), 'NGO', 'KZ' FROM generate_series(1, 5) i").await;
    // Exactly one page.
    let d = gql.ok(q, json!({ "n": 5 })).await["organizations"].clone();
    assert_eq!(d["edges"].as_array().unwrap().len(), 5);
    assert_eq!(d["pageInfo"]["hasNextPage"], false);
    // Walk by two; delete the row a cursor points at; the walk continues after it.
    let d = gql.ok(q, json!({ "n": 2 })).await["organizations"].clone();
    assert_eq!(d["pageInfo"]["hasNextPage"], true);
    let cursor = d["pageInfo"]["endCursor"].clone();
    assert_eq!(d["edges"][1]["node"]["slug"], "o2");
    exec(&db, "DELETE FROM organizations WHERE slug = 'o2'").await;
    let d = gql.ok(q, json!({ "n": 2, "a": cursor })).await["organizations"].clone();
    let slugs: Vec<_> = d["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].clone())
        .collect();
    assert_eq!(slugs, vec![json!("o3"), json!("o4")]);
    assert_eq!(d["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(d["totalCount"], 4);
    let d = gql
        .ok(q, json!({ "n": 2, "a": d["pageInfo"]["endCursor"] }))
        .await["organizations"]
        .clone();
    assert_eq!(d["edges"].as_array().unwrap().len(), 1);
    assert_eq!(d["pageInfo"]["hasNextPage"], false);

    // Only the selected parts of a page are built; selections merge across fragments, so edge
    // cursors asked for in a fragment next to `nodes` are the same cursors, and they page.
    let plain = gql
        .ok(
            "{ organizations(first: 4, orderBy: NAME) { edges { cursor node { slug } } } }",
            json!({}),
        )
        .await["organizations"]["edges"]
        .clone();
    let merged = gql
        .ok(
            "{ organizations(first: 4, orderBy: NAME) { nodes { slug } edges { node { slug } } ...C } }
             fragment C on OrganizationConnection { edges { cursor } }",
            json!({}),
        )
        .await["organizations"]
        .clone();
    assert_eq!(merged["edges"], plain);
    let nodes = nodes_of(&plain);
    assert_eq!(nodes.len(), 4);
    assert_eq!(merged["nodes"], json!(nodes));
    let only_nodes = gql
        .ok(
            "{ organizations(first: 4, orderBy: NAME) { nodes { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(only_nodes["organizations"]["nodes"], json!(nodes));
    let d = gql.ok(q, json!({ "n": 1, "a": plain[1]["cursor"] })).await["organizations"].clone();
    assert_eq!(d["edges"][0]["node"]["slug"], plain[2]["node"]["slug"]);

    for (vars, f) in [
        (json!({ "n": 101 }), "first"),
        (json!({ "n": -1 }), "first"),
        (json!({ "a": "bogus" }), "after"),
    ] {
        let body = gql.raw(q, vars).await;
        assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", f));
    }
    // A cursor of another order is refused rather than misread.
    let newest = gql
        .ok(
            "{ organizations(first: 1, orderBy: NEWEST) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let body = gql
        .raw(
            q,
            json!({ "a": newest["organizations"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "after"));

    // node / nodes.
    let ids: Vec<Value> = gql.ok(q, json!({})).await["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    let d = gql
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Organization { slug } } }",
            json!({ "ids": [ids[0], base64_id("Organization", 999_999), ids[1]] }),
        )
        .await;
    assert_eq!(d["nodes"][0]["id"], ids[0]);
    assert!(d["nodes"][1].is_null());
    assert_eq!(d["nodes"][2]["slug"], "o3");
    let body = gql.raw("{ node(id: \"!!\") { id } }", json!({})).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "id"));
    let body = gql
        .raw(
            "mutation { publishProject(id: \"T3JnYW5pemF0aW9uOjE\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

/// List statements are prepared once per connection and reused; a migration that adds a column
/// while the api runs must not break them (a cached `SELECT t.*` would now fail with "cached plan
/// must not change result type").
#[tokio::test(flavor = "multi_thread")]
async fn cached_list_statements_survive_a_new_column() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);
    let o = org(&gql, "Youth Centre", "NGO").await;
    published_project(&gql, &o["id"], "Winter help").await;
    let q = "{ organizations(first: 5) { nodes { name projects(first: 5) { nodes { title } } } }
               stats { organizationCount projectCount } }";
    let before = api.client().ok(q, json!({})).await;
    for _ in 0..20 {
        assert_eq!(api.client().ok(q, json!({})).await, before);
    }
    exec(
        &db,
        "ALTER TABLE organizations ADD COLUMN motto text; ALTER TABLE projects ADD COLUMN note text",
    )
    .await;
    for _ in 0..20 {
        assert_eq!(api.client().ok(q, json!({})).await, before);
    }
}
