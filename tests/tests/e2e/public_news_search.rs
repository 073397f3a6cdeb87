//! News (drafts, publishing, view counting) and search over HTTP.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::{code, count, exec, field, org};

const CREATE_POST: &str = "mutation($i: CreatePostInput!) { createPost(input: $i) { id slug publishedAt excerpt viewCount } }";

#[tokio::test(flavor = "multi_thread")]
async fn posts_drafts_publishing_and_views() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let member = fixtures::user(&db, "member@example.kz", Kind::Verified).await;
    let admin = fixtures::user(&db, "admin@example.kz", Kind::Admin).await;
    let anon = api.client();
    let as_owner = anon.with_token(&owner.token);
    let as_member = anon.with_token(&member.token);
    let o = org(&as_owner, "News Org", "NGO").await;

    let input = json!({ "i": { "organizationId": o["id"], "title": { "ru": "Субботник" }, "body": { "ru": "## Итоги\n\nМы посадили **100** деревьев." } } });
    assert_eq!(
        code(&as_member.raw(CREATE_POST, input.clone()).await),
        "FORBIDDEN"
    );
    let platform = json!({ "i": { "title": { "en": "Platform news" }, "body": { "en": "Hello" }, "publish": true } });
    assert_eq!(
        code(&as_owner.raw(CREATE_POST, platform.clone()).await),
        "FORBIDDEN",
        "platform news: admins"
    );
    anon.with_token(&admin.token)
        .ok(CREATE_POST, platform)
        .await;

    let p = as_owner.ok(CREATE_POST, input).await["createPost"].clone();
    assert!(p["publishedAt"].is_null());
    assert_eq!(p["excerpt"], "Итоги Мы посадили 100 деревьев.");
    let by_slug = "query($s: String!) { post(slug: $s) { title viewCount author { displayName } organization { slug } } }";
    assert!(
        anon.ok(by_slug, json!({ "s": p["slug"] })).await["post"].is_null(),
        "drafts are hidden"
    );
    assert!(!as_owner.ok(by_slug, json!({ "s": p["slug"] })).await["post"].is_null());
    let drafts =
        "query($o: ID) { posts(filter: { published: false, organizationId: $o }) { totalCount } }";
    assert_eq!(
        code(&as_member.raw(drafts, json!({ "o": o["id"] })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        as_owner.ok(drafts, json!({ "o": o["id"] })).await["posts"]["totalCount"],
        1
    );

    let view = "mutation($id: ID!) { recordPostView(id: $id) { viewCount } }";
    assert_eq!(
        code(&anon.raw(view, json!({ "id": p["id"] })).await),
        "NOT_FOUND",
        "no views of drafts"
    );
    as_owner
        .ok(
            "mutation($id: ID!) { publishPost(id: $id) { publishedAt } }",
            json!({ "id": p["id"] }),
        )
        .await;
    let d = anon
        .ok("{ posts { totalCount nodes { title } } }", json!({}))
        .await;
    assert_eq!(d["posts"]["totalCount"], 2);

    // One count per client per hour: the same anonymous client twice, a signed-in reader twice.
    assert_eq!(
        anon.ok(view, json!({ "id": p["id"] })).await["recordPostView"]["viewCount"],
        1
    );
    assert_eq!(
        anon.ok(view, json!({ "id": p["id"] })).await["recordPostView"]["viewCount"],
        1
    );
    assert_eq!(
        as_member.ok(view, json!({ "id": p["id"] })).await["recordPostView"]["viewCount"],
        2
    );
    assert_eq!(
        as_member.ok(view, json!({ "id": p["id"] })).await["recordPostView"]["viewCount"],
        2
    );
    // Another browser at the same address is another client.
    let other_browser = reqwest::Client::builder()
        .user_agent("OtherBrowser/1.0")
        .build()
        .unwrap();
    let body: Value = other_browser
        .post(api.url("/graphql"))
        .json(&json!({ "query": view, "variables": { "id": p["id"] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["recordPostView"]["viewCount"], 3);
    // An hour later the same client counts again.
    exec(&db, "UPDATE post_views SET hour = hour - interval '1 hour'").await;
    assert_eq!(
        anon.ok(view, json!({ "id": p["id"] })).await["recordPostView"]["viewCount"],
        4
    );

    let upd = "mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { title titleI18n { ru en } } }";
    assert_eq!(
        code(
            &as_member
                .raw(
                    upd,
                    json!({ "id": p["id"], "i": { "title": { "en": "X" } } })
                )
                .await
        ),
        "FORBIDDEN"
    );
    let body = as_owner
        .raw(
            upd,
            json!({ "id": p["id"], "i": { "body": { "en": "x".repeat(100_001) } } }),
        )
        .await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "body"));
    let d = as_owner
        .with_locale("en")
        .ok(
            upd,
            json!({ "id": p["id"], "i": { "title": { "ru": "Субботник", "en": "Clean-up day" } } }),
        )
        .await;
    assert_eq!(d["updatePost"]["title"], "Clean-up day");
    as_owner
        .ok(
            "mutation($id: ID!) { unpublishPost(id: $id) { publishedAt } }",
            json!({ "id": p["id"] }),
        )
        .await;
    assert!(anon.ok(by_slug, json!({ "s": p["slug"] })).await["post"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_word_forms_in_every_language() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    exec(&db, r#"
        INSERT INTO organizations (slug, name, description, kind, country) VALUES
          ('kz-vol', '{"kk": "Волонтерлер одағы"}', '{}', 'NGO', 'KZ'),
          ('ru-vol', '{"ru": "Центр волонтеров"}', '{}', 'NGO', 'KZ'),
          ('other', '{"en": "Chess club"}', '{}', 'CLUB', 'KZ');
        INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at) VALUES
          ('p-pub', (SELECT id FROM organizations WHERE slug = 'other'), '{"en": "Volunteer drivers", "ru": "Волонтер-водители"}', 'SOCIAL', 'PUBLISHED', 'KZ', now()),
          ('p-draft', (SELECT id FROM organizations WHERE slug = 'other'), '{"ru": "Секретный волонтер"}', 'SOCIAL', 'DRAFT', 'KZ', NULL);
        INSERT INTO posts (slug, title, body, published_at) VALUES
          ('n-pub', '{"ru": "Новости"}', '{"ru": "Спасибо волонтерам!"}', now()),
          ('n-draft', '{"ru": "Черновик"}', '{"ru": "волонтер"}', NULL);
    "#).await;
    let gql = api.client();
    let q = "query($q: String!, $n: Int, $a: String) { search(query: $q, first: $n, after: $a) { totalCount edges { cursor node { __typename ... on Organization { slug } ... on Project { slug } ... on Post { slug } } } pageInfo { hasNextPage endCursor } } }";
    let slugs = |d: &Value| {
        let mut v: Vec<String> = d["search"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let d = gql.ok(q, json!({ "q": "волонтер" })).await;
    assert_eq!(slugs(&d), ["kz-vol", "n-pub", "p-pub", "ru-vol"], "{d}");
    assert_eq!(d["search"]["totalCount"], 4);
    let d = gql.ok(q, json!({ "q": "VOLUNTEER" })).await;
    assert_eq!(slugs(&d), ["p-pub"]);
    assert_eq!(d["search"]["edges"][0]["node"]["__typename"], "Project");
    // A typo still finds the club (trigram similarity).
    let d = gql.ok(q, json!({ "q": "chess clb" })).await;
    assert_eq!(slugs(&d), ["other"]);
    assert_eq!(
        gql.ok(q, json!({ "q": "   " })).await["search"]["totalCount"],
        0
    );

    // Paginated: pages of one cover all hits once.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = gql
            .ok(q, json!({ "q": "волонтер", "n": 1, "a": after }))
            .await;
        seen.extend(slugs(&d));
        if d["search"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = d["search"]["pageInfo"]["endCursor"].clone();
    }
    seen.sort();
    assert_eq!(seen, ["kz-vol", "n-pub", "p-pub", "ru-vol"]);
    let body = gql.raw(q, json!({ "q": "x".repeat(201) })).await;
    assert_eq!((code(&body), field(&body)), ("BAD_USER_INPUT", "query"));
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM organizations").await,
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_the_platform() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let o = org(&api.client().with_token(&owner.token), "Stats Org", "NGO").await;
    let p = crate::public_support::published_project(
        &api.client().with_token(&owner.token),
        &o["id"],
        "Help",
    )
    .await;
    let v = fixtures::user(&db, "v@example.kz", Kind::Unverified).await;
    let a = api
        .client()
        .with_token(&v.token)
        .ok(
            "mutation($p: ID!) { applyToProject(projectId: $p) { id } }",
            json!({ "p": p["id"] }),
        )
        .await;
    api.client()
        .with_token(&owner.token)
        .ok(
            "mutation($id: ID!) { decideApplication(id: $id, accept: true) { status } }",
            json!({ "id": a["applyToProject"]["id"] }),
        )
        .await;
    let d = api
        .client()
        .ok(
            "{ stats { organizationCount projectCount volunteerCount applicationCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["stats"],
        json!({ "organizationCount": 1, "projectCount": 1, "volunteerCount": 1, "applicationCount": 1 })
    );
}
