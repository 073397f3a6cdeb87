//! The front page costs a fixed number of SQL statements, whatever its size: every relation
//! and nested list goes through a DataLoader.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis, sql_count};
use serde_json::{Value, json};

use crate::public_support::{exec, nodes_of};

pub const FRONT_PAGE: &str = r#"query($n: Int) {
  stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: $n, orderBy: NAME) {
    totalCount
    nodes {
      id name nameI18n { kk ru en } memberOf { name } managers { role }
      projects(first: 5) {
        totalCount
        nodes { id title volunteerCount organization { slug } viewerApplication { status } applications { totalCount } }
      }
    }
  }
  posts(first: $n) { nodes { title excerpt organization { name } author { displayName } } }
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn front_page_statements_do_not_grow_with_page_size() {
    sql_count::install();
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let viewer = fixtures::user(&db, "front@example.kz", Kind::Verified).await;
    exec(
        &db,
        &format!(
            "INSERT INTO organizations (slug, name, kind, country)
               SELECT 'org-' || i, jsonb_build_object('en', 'Org ' || lpad(i::text, 2, '0')), 'NGO', 'KZ'
               FROM generate_series(1, 20) i;
             INSERT INTO organizations (slug, name, kind, country) VALUES ('net', '{{\"en\": \"Zeta Network\"}}', 'NETWORK', 'KZ');
             INSERT INTO network_memberships (network_id, member_id)
               SELECT (SELECT id FROM organizations WHERE slug = 'net'), id FROM organizations WHERE slug <> 'net';
             INSERT INTO organization_managers (organization_id, user_id, role)
               SELECT id, {uid}, 'OWNER' FROM organizations;
             INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at)
               SELECT o.slug || '-p' || j, o.id, jsonb_build_object('en', 'Project ' || j), 'SOCIAL', 'PUBLISHED', 'KZ', now()
               FROM organizations o, generate_series(1, 6) j;
             INSERT INTO applications (project_id, volunteer_id)
               SELECT id, {uid} FROM projects;
             INSERT INTO posts (slug, organization_id, author_id, title, body, published_at)
               SELECT 'post-' || i, (SELECT min(id) FROM organizations), {uid}, jsonb_build_object('en', 'Post ' || i),
                      jsonb_build_object('en', '**News** number ' || i), now() - i * interval '1 minute'
               FROM generate_series(1, 20) i;",
            uid = viewer.id
        ),
    )
    .await;
    // A wide batch window: this test is about the shape of the batching (no statement per row),
    // and a test machine busy with other tests must not split a level's keys into two batches.
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.dataloader_delay = Some(std::time::Duration::from_millis(150));
    let api = TestApi::start_with(config).await;
    let gql = api.client().with_token(&viewer.token);
    // Warm-up: the pool's connections are opened outside the measurement.
    gql.ok(FRONT_PAGE, json!({ "n": 20 })).await;

    let mut costs = Vec::new();
    for n in [2, 10, 20] {
        // The cheaper of two runs: a request that happens to need one more pooled connection
        // than the warm-up opened also counts that connection's setup statements.
        let mut cost = u64::MAX;
        let mut data = Value::Null;
        for _ in 0..2 {
            let before = sql_count::count(&db.url);
            data = gql.ok(FRONT_PAGE, json!({ "n": n })).await;
            cost = cost.min(sql_count::count(&db.url) - before);
        }
        costs.push(cost);
        let orgs = data["organizations"]["nodes"].as_array().unwrap();
        assert_eq!(orgs.len(), n);
        assert_eq!(data["organizations"]["totalCount"], 21);
        let first = &orgs[0];
        assert_eq!(first["projects"]["nodes"].as_array().unwrap().len(), 5);
        assert_eq!(first["projects"]["totalCount"], 6);
        assert_eq!(first["memberOf"][0]["name"], "Zeta Network");
        assert_eq!(
            first["projects"]["nodes"][0]["viewerApplication"]["status"],
            "SUBMITTED"
        );
        assert_eq!(
            first["projects"]["nodes"][0]["applications"]["totalCount"],
            1
        );
        assert_eq!(data["posts"]["nodes"].as_array().unwrap().len(), n);
        assert_eq!(data["posts"]["nodes"][0]["excerpt"], "News number 1");
    }
    assert!(costs[0] > 0, "the counter sees the API's statements");
    // Per-row loading would add dozens of statements from 2 to 20 organizations (each with 5
    // projects); batching keeps the cost flat. One statement of slack: a pooled connection's
    // setup now and then lands in one measurement, at any size (seen as [17, 16, 16]).
    assert!(
        costs[1] <= costs[0] + 1 && costs[2] <= costs[0] + 1 && costs[2] <= costs[1] + 1,
        "statements per front page grow with its size: {costs:?}"
    );
    assert!(
        costs[2] <= 40,
        "a front page is a few dozen statements at most: {costs:?}"
    );
}

const AWARD_PAGE: &str = r#"query($slug: String!) {
  award(slug: $slug) {
    title phase
    categories {
      id title voteCount
      nominations(first: 10, orderBy: MOST_VOTES) {
        totalCount
        nodes { nomineeName voteCount }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"#;

/// The award half of the front page: categories with their top nominations by votes cost the
/// same few statements for 1 category as for 10, and the top lists come in the index's order
/// (most votes first, ties to the earlier nomination), also across a page boundary.
#[tokio::test(flavor = "multi_thread")]
async fn award_categories_with_top_nominations_cost_a_fixed_few_statements() {
    sql_count::install();
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    exec(
        &db,
        "INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at, live_counts)
           SELECT 'award-' || k, '{\"en\":\"Award\"}', 2026, '{KZ}', now() - interval '20 days',
                  now() - interval '10 days', now() - interval '9 days', now() + interval '9 days', true
           FROM unnest(ARRAY[0, 1, 10]) k;
         INSERT INTO award_categories (award_id, position, title)
           SELECT a.id, p, jsonb_build_object('en', 'Category ' || p)
           FROM awards a, generate_series(1, substr(a.slug, 7)::int) p;
         INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country,
                                  status, vote_count)
           SELECT c.id, 'Nominee ' || i, 'nominee ' || i, 'PERSON', 'Statement', 'KZ', 'APPROVED', (i % 7) * 10
           FROM award_categories c, generate_series(1, 12) i;
         UPDATE award_categories c SET vote_count =
           (SELECT sum(vote_count) FROM nominations n WHERE n.category_id = c.id);",
    )
    .await;
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.dataloader_delay = Some(std::time::Duration::from_millis(150));
    let api = TestApi::start_with(config).await;
    let gql = api.client();
    gql.ok(AWARD_PAGE, json!({ "slug": "award-1" })).await;

    let mut costs = Vec::new();
    for slug in ["award-1", "award-10"] {
        // The cheaper of two runs, as above.
        let mut cost = u64::MAX;
        let mut data = Value::Null;
        for _ in 0..2 {
            let before = sql_count::count(&db.url);
            data = gql.ok(AWARD_PAGE, json!({ "slug": slug })).await;
            cost = cost.min(sql_count::count(&db.url) - before);
        }
        costs.push(cost);
        let categories = data["award"]["categories"].as_array().unwrap();
        assert_eq!(categories.len(), if slug == "award-1" { 1 } else { 10 });
        for c in categories {
            assert_eq!(c["voteCount"], 360);
            let page = &c["nominations"];
            assert_eq!(page["totalCount"], 12);
            assert_eq!(page["pageInfo"]["hasNextPage"], true);
            let top: Vec<(String, i64)> = page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    let name = n["nomineeName"].as_str().unwrap().to_owned();
                    (name, n["voteCount"].as_i64().unwrap())
                })
                .collect();
            // vote_count = (i % 7) * 10 for i in 1..=12.
            let expected = [
                (6, 60),
                (5, 50),
                (12, 50),
                (4, 40),
                (11, 40),
                (3, 30),
                (10, 30),
                (2, 20),
                (9, 20),
                (1, 10),
            ];
            let expected: Vec<(String, i64)> = expected
                .iter()
                .map(|&(i, v)| (format!("Nominee {i}"), v))
                .collect();
            assert_eq!(top, expected, "top 10 by votes, ties to the earlier one");
        }
    }
    assert_eq!(
        costs[0], costs[1],
        "statements grow with the number of categories: {costs:?}"
    );
    // The award with its categories, one statement for every category's nominations and one
    // for their totals.
    assert_eq!(costs[1], 3, "an award page is three statements: {costs:?}");
    // The award and its categories come in one statement, also when it has none or is missing.
    let data = gql.ok(AWARD_PAGE, json!({ "slug": "award-0" })).await;
    assert_eq!(data["award"]["title"], "Award");
    assert_eq!(data["award"]["categories"], json!([]));
    let data = gql.ok(AWARD_PAGE, json!({ "slug": "no-such-award" })).await;
    assert_eq!(data["award"], Value::Null);

    // The next page starts after the cursor, inside the group of nominations with 10 votes.
    let data = gql.ok(AWARD_PAGE, json!({ "slug": "award-1" })).await;
    let cursor = data["award"]["categories"][0]["nominations"]["pageInfo"]["endCursor"].clone();
    let category = data["award"]["categories"][0]["id"].clone();
    let next = gql
        .ok(
            r#"query($id: ID!, $after: String) { node(id: $id) { ... on AwardCategory {
                 nominations(first: 10, orderBy: MOST_VOTES, after: $after) { nodes { nomineeName voteCount } } } } }"#,
            json!({ "id": category, "after": cursor }),
        )
        .await;
    assert_eq!(
        next["node"]["nominations"]["nodes"],
        json!([
            { "nomineeName": "Nominee 8", "voteCount": 10 },
            { "nomineeName": "Nominee 7", "voteCount": 0 }
        ])
    );
}

/// Lists leave out what the selection doesn't read (long texts, cursors); whatever reads them,
/// through a fragment or an edge, still gets them, and a page's cursor still pages.
#[tokio::test(flavor = "multi_thread")]
async fn lists_read_long_texts_and_cursors_only_when_asked_yet_always_when_asked() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    exec(
        &db,
        "INSERT INTO organizations (slug, name, description, kind, country)
           VALUES ('lean', '{\"en\": \"Lean\"}', '{\"ru\": \"Об организации\"}', 'NGO', 'KZ');
         INSERT INTO projects (slug, organization_id, title, summary, description, direction, status, country,
                               created_at, published_at)
           SELECT 'lean-p' || j, o.id, jsonb_build_object('en', 'Project ' || j),
                  jsonb_build_object('en', 'Summary ' || j), jsonb_build_object('ru', 'Описание ' || j),
                  'SOCIAL', 'PUBLISHED', 'KZ', now() - j * interval '1 hour', now()
           FROM organizations o, generate_series(1, 3) j WHERE o.slug = 'lean';",
    )
    .await;
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();

    let lean = gql
        .ok(
            "{ organizations(first: 5) { nodes { slug projects(first: 2) { nodes { slug title } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lean["organizations"]["nodes"][0]["projects"]["nodes"],
        json!([{ "slug": "lean-p1", "title": "Project 1" }, { "slug": "lean-p2", "title": "Project 2" }])
    );

    // Long texts asked for in a fragment of a nested list, and the page's end cursor alone.
    let d = gql
        .ok(
            "{ organizations(first: 5) { nodes { ...O projects(first: 2) { pageInfo { endCursor hasNextPage } nodes { slug ...P } } } } }
             fragment O on Organization { description }
             fragment P on Project { summary descriptionI18n { ru } }",
            json!({}),
        )
        .await;
    let org = &d["organizations"]["nodes"][0];
    assert_eq!(org["description"], "Об организации");
    assert_eq!(
        org["projects"]["nodes"],
        json!([
            { "slug": "lean-p1", "summary": "Summary 1", "descriptionI18n": { "ru": "Описание 1" } },
            { "slug": "lean-p2", "summary": "Summary 2", "descriptionI18n": { "ru": "Описание 2" } },
        ])
    );
    assert_eq!(org["projects"]["pageInfo"]["hasNextPage"], true);
    let next = gql
        .ok(
            "query($a: String) { organization(slug: \"lean\") { projects(first: 2, after: $a) { nodes { slug } } } }",
            json!({ "a": org["projects"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        next["organization"]["projects"]["nodes"],
        json!([{ "slug": "lean-p3" }])
    );

    // A top-level list read through its edges and an inline fragment.
    let d = gql
        .ok(
            "{ projects(first: 1, orderBy: NEWEST) { edges { cursor node { ... on Project { description } } } } }",
            json!({}),
        )
        .await;
    let edge = &d["projects"]["edges"][0];
    assert_eq!(edge["node"]["description"], "Описание 1");
    let next = gql
        .ok(
            "query($a: String) { projects(first: 1, after: $a, orderBy: NEWEST) { nodes { slug } } }",
            json!({ "a": edge["cursor"] }),
        )
        .await;
    assert_eq!(next["projects"]["nodes"], json!([{ "slug": "lean-p2" }]));
}

/// Two organizations (one with every optional column set, one with none), two projects each,
/// and an award in voting with three approved nominations.
const PLAIN_SEED: &str = "INSERT INTO organizations (slug, name, description, kind, country, region, city, website, verified)
           VALUES ('plain', '{\"kk\": \"Қазақша\", \"en\": \"Plain\"}', '{\"ru\": \"Описание\"}', 'NETWORK',
                   'KZ', 'Almaty', 'Almaty', 'https://plain.kz', true),
                  ('bare', '{\"en\": \"Bare\"}', '{}', 'NGO', 'RU', NULL, NULL, NULL, false);
         INSERT INTO projects (slug, organization_id, title, summary, description, direction, status, country,
                               region, city, starts_at, ends_at, volunteers_needed, volunteer_count, published_at)
           SELECT o.slug || '-p' || j, o.id, jsonb_build_object('ru', 'Проект ' || j), '{\"en\": \"S\"}', '{}',
                  'EMERGENCY', 'PUBLISHED', 'KZ', CASE WHEN j = 1 THEN 'Almaty' END, NULL,
                  now() + j * interval '1 day', CASE WHEN j = 2 THEN now() + interval '9 days' END,
                  CASE WHEN j = 1 THEN 30 END, j, now()
           FROM organizations o, generate_series(1, 2) j;
         INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at, live_counts)
           VALUES ('plain-award', '{\"en\":\"Award\"}', 2026, '{KZ}', now() - interval '20 days',
                   now() - interval '10 days', now() - interval '9 days', now() + interval '9 days', true);
         INSERT INTO award_categories (award_id, position, title)
           SELECT id, 1, '{\"en\": \"Category\"}' FROM awards;
         INSERT INTO nominations (category_id, nominee_name, nominee_key, nominee_kind, statement, country,
                                  region, status, vote_count)
           SELECT c.id, 'Nominee ' || i, 'nominee ' || i, 'ORGANIZATION', 'Statement ' || i, 'KZ',
                  CASE WHEN i = 1 THEN 'Astana' END, 'APPROVED', i * 5
           FROM award_categories c, generate_series(1, 3) i;";

/// A connection's `nodes` answer their row-only fields without the executor's per-field path
/// (`plain_fields.rs`); each such field must come out exactly as its resolver gives it through
/// `edges { node }`, which takes the executor's path, also where fragments overlap, a key is
/// aliased, and an error stays with its own field.
#[tokio::test(flavor = "multi_thread")]
async fn plain_fields_match_the_resolvers() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    exec(&db, PLAIN_SEED).await;
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    const Q: &str = r#"{
      organizations(first: 5, orderBy: NAME) {
        nodes { ...O projects(first: 5) { nodes { ...P ...Q } } }
        edges { node { ...O projects(first: 5) { edges { node { ...P ...Q } } } } }
      }
      award(slug: "plain-award") { categories { nominations(first: 5, orderBy: MOST_VOTES) {
        nodes { ...N } edges { node { ...N } } } } }
    }
    fragment O on Organization { __typename id slug name description kind country region city website
      verified createdAt nameI18n { en kk } label: slug }
    fragment P on Project { __typename id slug title summary description direction status country
      region city startsAt endsAt volunteersNeeded volunteerCount spotsLeft createdAt publishedAt
      organization { slug } titleI18n { ru } }
    fragment Q on Node { ... on Project { id organization { name } viewerApplication { status } } }
    fragment N on Nomination { __typename id nomineeName nomineeKind statement country region status
      voteCount moderationNote createdAt category { title } votes: voteCount }"#;
    let d = gql.ok(Q, json!({})).await;
    let orgs = &d["organizations"];
    let fast: Vec<Value> = orgs["nodes"].as_array().unwrap().clone();
    let slow = nodes_of(&orgs["edges"]);
    assert_eq!(fast.len(), 2);
    for (f, s) in fast.iter().zip(&slow) {
        let (mut f, mut s) = (f.clone(), s.clone());
        let (fp, sp) = (f["projects"].take(), s["projects"].take());
        assert_eq!(f, s);
        assert_eq!(fp["nodes"], json!(nodes_of(&sp["edges"])));
        assert_eq!(fp["nodes"].as_array().unwrap().len(), 2);
        // The fields merged from both fragments.
        let p = &fp["nodes"][0];
        assert_eq!(p["organization"]["slug"], f["slug"]);
        assert_eq!(p["organization"]["name"], f["name"]);
        assert_eq!(p["viewerApplication"], Value::Null);
    }
    // Kazakh collation puts the Cyrillic script before the Latin one.
    assert_eq!(fast[0]["name"], "Қазақша");
    assert_eq!(fast[0]["label"], "plain");
    assert_eq!(fast[0]["kind"], "NETWORK");
    let nominations = &d["award"]["categories"][0]["nominations"];
    assert_eq!(nominations["nodes"], json!(nodes_of(&nominations["edges"])));
    assert_eq!(nominations["nodes"][0]["votes"], 15);
    assert_eq!(nominations["nodes"][0]["nomineeKind"], "ORGANIZATION");
    assert_eq!(nominations["nodes"][0]["moderationNote"], Value::Null);

    // An error in a node's non-null field nulls the node, and so (non-null all the way up)
    // `data`, as the spec says; one error for the nulled position.
    let d = gql
        .raw(
            "{ organizations(first: 5, orderBy: NAME) { nodes { slug projects(first: 101) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["errors"][0]["path"],
        json!(["organizations", "nodes", 0, "projects"])
    );
    assert_eq!(d["data"], Value::Null);
    assert_eq!(d["errors"].as_array().map(Vec::len), Some(1));
}

/// Lists leave out the columns no selected field reads (each listed model's
/// `page::Listable::OPTIONAL`), so a field whose resolver reads a column its descriptor does not
/// name would come out empty. Every field of every list, read alone, must come out as it does
/// read next to all the others (which makes the list read every column); every connection of
/// the schema is either in the table or named as a list read another way.
#[tokio::test(flavor = "multi_thread")]
async fn every_list_field_read_alone_matches_it_read_with_all_others() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    exec(&db, PLAIN_SEED).await;
    let admin = fixtures::user(&db, "lists@example.kz", Kind::Admin).await;
    exec(
        &db,
        &format!(
            "INSERT INTO organizations (slug, name, description, kind, country, region, city, website)
               VALUES ('member', '{{\"en\": \"Member\"}}', '{{\"en\": \"About\"}}', 'CLUB', 'KZ', 'Astana',
                       'Astana', 'https://member.kz');
             INSERT INTO network_memberships (network_id, member_id)
               SELECT n.id, m.id FROM organizations n, organizations m
               WHERE n.slug = 'plain' AND m.slug IN ('bare', 'member');
             INSERT INTO posts (slug, organization_id, author_id, title, body, published_at)
               SELECT 'post-' || o.slug, o.id, {uid}, '{{\"en\": \"Post\"}}',
                      '{{\"en\": \"**News** of the day\"}}', now() FROM organizations o;
             INSERT INTO applications (project_id, volunteer_id, message)
               SELECT id, {uid}, 'Hello' FROM projects;
             UPDATE nominations SET submitted_by = {uid}, moderation_note = 'Fine'
               WHERE nominee_name IN ('Nominee 2', 'Nominee 3');
             INSERT INTO awards (slug, title, description, year, countries, nomination_opens_at,
                                 nomination_closes_at, voting_opens_at, voting_closes_at)
               VALUES ('next-award', '{{\"en\": \"Next\"}}', '{{\"en\": \"Soon\"}}', 2027, '{{KZ,RU}}',
                       now() + interval '1 day', now() + interval '2 days', now() + interval '3 days',
                       now() + interval '4 days');",
            uid = admin.id
        ),
    )
    .await;
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client().with_token(&admin.token);
    let lists = [
        (
            "Query.organizations",
            "Organization",
            "{ organizations(first: 5, orderBy: NAME) { nodes { id FIELDS } } }",
        ),
        (
            "Organization.members",
            "Organization",
            "{ organization(slug: \"plain\") { members(first: 5) { nodes { id FIELDS } } } }",
        ),
        (
            "Organization.projects",
            "Project",
            "{ organizations(first: 5, orderBy: NAME) { nodes { projects(first: 5) { nodes { id FIELDS } } } } }",
        ),
        (
            "Query.projects",
            "Project",
            "{ projects(first: 10, orderBy: NEWEST) { edges { node { id FIELDS } } } }",
        ),
        (
            "Query.posts",
            "Post",
            "{ posts(first: 10) { nodes { id FIELDS } } }",
        ),
        (
            "Project.applications",
            "Application",
            "{ projects(first: 10) { nodes { applications(first: 5) { nodes { id FIELDS } } } } }",
        ),
        (
            "User.applications",
            "Application",
            "{ viewer { applications(first: 10) { edges { node { id FIELDS } } } } }",
        ),
        (
            "AwardCategory.nominations",
            "Nomination",
            "{ award(slug: \"plain-award\") { categories { nominations(first: 5) { nodes { id FIELDS } } } } }",
        ),
        (
            "Award.nominations",
            "Nomination",
            "{ award(slug: \"plain-award\") { nominations(first: 5) { nodes { id FIELDS } } } }",
        ),
        (
            "User.nominations",
            "Nomination",
            "{ viewer { nominations(first: 5) { edges { node { id FIELDS } } } } }",
        ),
        (
            "Query.awards",
            "Award",
            "{ awards(first: 5) { nodes { id FIELDS } } }",
        ),
    ];
    // Connections whose rows are read whole, never narrowed: nothing to compare.
    let read_whole = [
        "Query.search",
        "Query.digestRuns",
        "Award.jurors",
        "Juror.assignments",
    ];
    let mut uncovered = connections_of_schema(&gql).await;
    uncovered
        .retain(|c| !lists.iter().any(|(list, ..)| list == c) && !read_whole.contains(&c.as_str()));
    assert!(uncovered.is_empty(), "lists not checked: {uncovered:?}");
    for (list_name, type_name, list) in lists {
        let mut fields = selections_of(&gql, type_name).await;
        // Fields the reader may not read error in every read alike; they are left out so the
        // rest can be compared.
        let all = gql
            .raw(&list.replace("FIELDS", &fields.join(" ")), json!({}))
            .await;
        let refused: Vec<String> = all["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["path"].as_array()?.last()?.as_str().map(str::to_owned))
            .collect();
        fields.retain(|f| !refused.iter().any(|r| field_name(f) == r));
        assert!(fields.len() >= 5, "{list_name}: {fields:?}");
        let all = gql
            .ok(&list.replace("FIELDS", &fields.join(" ")), json!({}))
            .await;
        assert!(
            all.to_string().matches("\"id\"").count() >= 2,
            "{list_name} lists fewer than two rows: {all}"
        );
        for field in &fields {
            let alone = gql.ok(&list.replace("FIELDS", field), json!({})).await;
            let name = field_name(field);
            assert_eq!(
                alone,
                keep_in_nodes(&all, name),
                "{list_name}: {type_name}.{name} read alone differs from it read with the other fields"
            );
        }
    }
}

/// Every field of the schema whose type is a connection, as `Type.field`.
async fn connections_of_schema(gql: &birgemiz_tests::Gql) -> Vec<String> {
    let d = gql
        .ok(
            "{ __schema { types { name fields { name type { kind name ofType { name } } } } } }",
            json!({}),
        )
        .await;
    let mut out = Vec::new();
    for t in d["__schema"]["types"].as_array().expect("types") {
        let type_name = t["name"].as_str().unwrap_or_default();
        for f in t["fields"].as_array().into_iter().flatten() {
            let of = match f["type"]["kind"].as_str() {
                Some("NON_NULL") => &f["type"]["ofType"]["name"],
                _ => &f["type"]["name"],
            };
            if of.as_str().is_some_and(|n| n.ends_with("Connection")) {
                out.push(format!(
                    "{type_name}.{}",
                    f["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    out
}

/// A page reads the row after it only when `hasNextPage` is asked for (`PageArgs::fetch`), so
/// `hasNextPage` must come out right read alone, next to the nodes and next to the cursors, and
/// a page must hold `first` rows whether or not it is asked.
#[tokio::test]
async fn has_next_page_is_right_however_the_page_is_read() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    exec(&db, PLAIN_SEED).await;
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    // Each list of the seed with its length; `PAGE` is replaced by a page selection.
    let lists = [
        (
            "{ organizations(first: FIRST, orderBy: NAME) PAGE }",
            2,
            vec!["organizations"],
        ),
        (
            "{ organizations(first: 2, orderBy: NAME) { nodes { projects(first: FIRST) PAGE } } }",
            2,
            vec!["organizations", "nodes", "projects"],
        ),
        (
            "{ award(slug: \"plain-award\") { categories { nominations(first: FIRST) PAGE } } }",
            3,
            vec!["award", "categories", "nominations"],
        ),
    ];
    // Each page selection, and a fragment it spreads (on the list's connection type).
    let pages = [
        ("{ pageInfo { hasNextPage } }", ""),
        ("{ nodes { id } pageInfo { hasNextPage } }", ""),
        (
            "{ edges { cursor } pageInfo { hasNextPage endCursor } }",
            "",
        ),
        (
            "{ ...P }",
            " fragment P on CONNECTION { nodes { id } pageInfo { ... on PageInfo { hasNextPage } } }",
        ),
    ];
    for (list, len, path) in &lists {
        let connection_type = match path.last() {
            Some(&"organizations") => "OrganizationConnection",
            Some(&"projects") => "ProjectConnection",
            _ => "NominationConnection",
        };
        for first in [len - 1, *len] {
            for (page, fragment) in pages {
                let query = list
                    .replace("FIRST", &first.to_string())
                    .replace("PAGE", page)
                    + &fragment.replace("CONNECTION", connection_type);
                let d = gql.ok(&query, json!({})).await;
                let mut at = &d;
                for step in path {
                    at = &at[step];
                    if let Some(first) = at.as_array().and_then(|a| a.first()) {
                        at = first;
                    }
                }
                assert_eq!(
                    at["pageInfo"]["hasNextPage"],
                    json!(first < *len),
                    "{query}: {d}"
                );
                let rows = at["nodes"].as_array().or(at["edges"].as_array());
                if let Some(rows) = rows {
                    assert_eq!(rows.len(), first, "{query}: {d}");
                }
            }
        }
    }
}

/// Every field of a type a test can select without arguments: leaves by name, localized texts
/// with their languages, other objects by their type name.
async fn selections_of(gql: &birgemiz_tests::Gql, type_name: &str) -> Vec<String> {
    let d = gql
        .ok(
            "query($t: String!) { __type(name: $t) { fields { name args { type { kind } }
               type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }",
            json!({ "t": type_name }),
        )
        .await;
    let mut out = Vec::new();
    for f in d["__type"]["fields"].as_array().expect("the type exists") {
        let required_arg = f["args"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["type"]["kind"] == "NON_NULL");
        if required_arg {
            continue;
        }
        let mut t = &f["type"];
        while t["kind"] == "NON_NULL" || t["kind"] == "LIST" {
            t = &t["ofType"];
        }
        let name = f["name"].as_str().expect("a field name");
        out.push(match (t["kind"].as_str(), t["name"].as_str()) {
            (Some("SCALAR" | "ENUM"), _) => name.to_owned(),
            (_, Some("LocalizedText")) => format!("{name} {{ kk ru en }}"),
            _ => format!("{name} {{ __typename }}"),
        });
    }
    out
}

fn field_name(selection: &str) -> &str {
    selection.split(' ').next().unwrap_or(selection)
}

/// `data` with each node (an object with an `id`) cut down to its id and `field`.
fn keep_in_nodes(data: &Value, field: &str) -> Value {
    match data {
        Value::Object(o) if o.contains_key("id") => Value::Object(
            o.iter()
                .filter(|(k, _)| *k == "id" || *k == field)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), keep_in_nodes(v, field)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| keep_in_nodes(v, field)).collect()),
        other => other.clone(),
    }
}

/// A query's reads go through one pooled connection, shared by its resolvers and loaders, so
/// the statements of a level (here the stats, the organizations, the award and the posts) leave
/// together instead of each waiting for a connection of its own. A mutation's transaction
/// still takes a connection to itself, and its payload is read after the commit.
#[tokio::test(flavor = "multi_thread")]
async fn a_requests_reads_share_one_pooled_connection() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let viewer = fixtures::user(&db, "reads@example.kz", Kind::Verified).await;
    exec(
        &db,
        "INSERT INTO organizations (slug, name, kind, country)
           SELECT 'org-' || i, jsonb_build_object('en', 'Org ' || i), 'NGO', 'KZ' FROM generate_series(1, 3) i;
         INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at)
           SELECT o.slug || '-p', o.id, '{\"en\": \"Project\"}', 'SOCIAL', 'PUBLISHED', 'KZ', now() FROM organizations o;
         INSERT INTO awards (slug, title, year, countries, nomination_opens_at, nomination_closes_at,
                             voting_opens_at, voting_closes_at)
           VALUES ('award', '{\"en\": \"Award\"}', 2026, '{KZ}', now() - interval '2 days', now() + interval '1 day',
                   now() + interval '2 days', now() + interval '3 days');
         INSERT INTO award_categories (award_id, position, title)
           SELECT id, 1, '{\"en\": \"Category\"}' FROM awards;",
    )
    .await;
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    // No periodic vote fold checks out a connection during the measurement.
    config.vote_fold_interval = std::time::Duration::from_secs(3600);
    // The shared connection is one of the fast paths; with them off each read checks one out.
    config.graphql_fast_paths = true;
    let api = TestApi::start_with(config).await;
    let gql = api.client().with_token(&viewer.token);
    const PAGE: &str = r#"{
      stats { organizationCount }
      organizations(first: 3) { nodes { slug projects(first: 2) { nodes { slug } } } }
      award(slug: "award") { title categories { title nominations(first: 3) { nodes { id } } } }
      posts(first: 2) { nodes { id } }
    }"#;
    gql.ok(PAGE, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let checkouts = |api: &TestApi| {
        let s = api.state.pool.state().statistics;
        s.get_direct + s.get_waited + s.get_timed_out
    };

    let before = checkouts(&api);
    let data = gql.ok(PAGE, json!({})).await;
    assert_eq!(
        checkouts(&api) - before,
        1,
        "one connection per request's reads"
    );
    assert_eq!(data["stats"]["organizationCount"], 3);
    assert_eq!(
        data["organizations"]["nodes"][0]["projects"]["nodes"][0]["slug"],
        "org-1-p"
    );
    assert_eq!(data["award"]["categories"][0]["title"], "Category");

    // A mutation holds one connection at a time: the session lookup's, then the transaction's,
    // then (after the commit) the one its payload reads through.
    let before = checkouts(&api);
    let created = gql
        .ok(
            r#"mutation { createOrganization(input: { name: { en: "Fresh" }, kind: NGO, country: "KZ" }) {
                 name projects(first: 1) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(created["createOrganization"]["name"], "Fresh");
    assert_eq!(created["createOrganization"]["projects"]["totalCount"], 0);
    assert_eq!(checkouts(&api) - before, 3);
    let s = api.state.pool.state();
    assert_eq!(s.connections - s.idle_connections, 0, "all returned");
}
