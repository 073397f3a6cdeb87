//! `node`/`nodes` for the award and digest types: each type in one batch, with the same
//! visibility as the rest of the API; and a nomination's project and organization.

use birgemiz_api::graphql::ids::{NodeType, encode};
use birgemiz_tests::api::test_config;
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{TestApi, TestDb, TestRedis, sql_count};
use serde_json::{Value, json};

use crate::awards_common::{CAST, MODERATE, SUBMIT, nominating_award, open_voting, submit};
use crate::public_support::{count, exec};

const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

/// Which of `ids` the client sees through `nodes`, checked against `node` one by one.
async fn seen(gql: &birgemiz_tests::Gql, ids: &[&str]) -> Vec<bool> {
    let d = gql.ok(NODES, json!({ "ids": ids })).await;
    let list = d["nodes"].as_array().unwrap();
    assert_eq!(list.len(), ids.len());
    let mut out = Vec::new();
    for (id, n) in ids.iter().zip(list) {
        if !n.is_null() {
            assert_eq!(n["id"], *id, "nodes answers in the order asked");
        }
        let one = gql.ok(NODE, json!({ "id": id })).await;
        assert_eq!(one["node"], *n, "node and nodes agree on {id}");
        out.push(!n.is_null());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn award_types_resolve_as_nodes_with_their_visibility() {
    sql_count::install();
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let admin_u = fixtures::user(&db, "node-admin@example.kz", Kind::Admin).await;
    let nominator_u = fixtures::user(&db, "node-nominator@example.kz", Kind::Verified).await;
    let voter_u = fixtures::user(&db, "node-voter@example.kz", Kind::Verified).await;
    // A wide batch window, as in the front page test: a busy machine must not split a batch.
    let mut config = test_config(&db, &redis);
    config.dataloader_delay = Some(std::time::Duration::from_millis(150));
    let api = TestApi::start_with(config).await;
    let anon = api.client();
    let admin = anon.with_token(&admin_u.token);
    let nominator = anon.with_token(&nominator_u.token);
    let voter = anon.with_token(&voter_u.token);

    let (award, category) = nominating_award(&admin, "Node Award", false).await;
    let approved = submit(&nominator, &category, "Approved Nominee").await;
    admin
        .ok(MODERATE, json!({ "id": approved, "d": "APPROVE" }))
        .await;
    let pending = submit(&nominator, &category, "Pending Nominee").await;
    let rejected = submit(&nominator, &category, "Rejected Nominee").await;
    admin
        .ok(MODERATE, json!({ "id": rejected, "d": "REJECT" }))
        .await;
    open_voting(&admin, &award, 3600).await;
    let vote = voter.ok(CAST, json!({ "n": approved })).await["castVote"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = admin
        .ok("mutation { runDigestNow { id } }", json!({}))
        .await["runDigestNow"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ids = [
        award.as_str(),
        category.as_str(),
        approved.as_str(),
        pending.as_str(),
        rejected.as_str(),
        vote.as_str(),
        run.as_str(),
    ];
    let d = admin.ok(NODES, json!({ "ids": ids })).await;
    let types: Vec<&str> = d["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["__typename"].as_str().unwrap_or("null"))
        .collect();
    assert_eq!(
        types,
        [
            "Award",
            "AwardCategory",
            "Nomination",
            "Nomination",
            "Nomination",
            "null",
            "DigestRun"
        ],
        "admins see every nomination and digest run, but not someone else's vote"
    );
    let t = true;
    let f = false;
    assert_eq!(seen(&anon, &ids).await, [t, t, t, f, f, f, f]);
    assert_eq!(seen(&nominator, &ids).await, [t, t, t, t, t, f, f]);
    assert_eq!(seen(&voter, &ids).await, [t, t, t, f, f, t, f]);
    assert_eq!(seen(&admin, &ids).await, [t, t, t, t, t, f, t]);

    // Ids that exist nowhere are null, not errors.
    let ghosts: Vec<_> = [
        NodeType::Award,
        NodeType::AwardCategory,
        NodeType::Nomination,
        NodeType::Vote,
        NodeType::DigestRun,
    ]
    .into_iter()
    .map(|t| encode(t, 999_999).0)
    .collect();
    let d = admin.ok(NODES, json!({ "ids": ghosts })).await;
    assert!(d["nodes"].as_array().unwrap().iter().all(Value::is_null));

    // Fields through the interface: the resolved objects are the real types.
    let d = voter
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) {
                ... on Award { slug }
                ... on AwardCategory { title }
                ... on Vote { nomination { nomineeName } }
            } }",
            json!({ "ids": [award, category, vote] }),
        )
        .await;
    assert_eq!(d["nodes"][1]["title"], "Project of the year");
    assert_eq!(
        d["nodes"][2]["nomination"]["nomineeName"],
        "Approved Nominee"
    );

    // Batching: twenty ids of each type cost no more statements than one of each.
    let many_noms: Vec<String> = (0..5)
        .map(|_| approved.clone())
        .chain([pending.clone(), rejected.clone()])
        .collect();
    let few = [
        award.clone(),
        category.clone(),
        approved.clone(),
        run.clone(),
        vote.clone(),
    ];
    let mut many: Vec<String> = vec![award.clone(); 5];
    many.extend(vec![category.clone(); 5]);
    many.extend(many_noms);
    many.extend(vec![run.clone(); 5]);
    many.push(vote.clone());
    many.extend(
        [
            NodeType::Award,
            NodeType::AwardCategory,
            NodeType::Nomination,
            NodeType::Vote,
            NodeType::DigestRun,
        ]
        .into_iter()
        .flat_map(|t| (1..=15).map(move |i| encode(t, 500_000 + i).0)),
    );
    admin.ok(NODES, json!({ "ids": few })).await;
    let mut costs = Vec::new();
    for ids in [&few[..], &many[..]] {
        let before = sql_count::count(&db.url);
        admin.ok(NODES, json!({ "ids": ids })).await;
        costs.push(sql_count::count(&db.url) - before);
    }
    assert!(costs[0] > 0, "the counter sees the API's statements");
    assert_eq!(
        costs[0], costs[1],
        "statements grow with the ids: {costs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nomination_links_its_project_and_organization() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let admin_u = fixtures::user(&db, "link-admin@example.kz", Kind::Admin).await;
    let nominator_u = fixtures::user(&db, "link-nominator@example.kz", Kind::Verified).await;
    exec(
        &db,
        "INSERT INTO organizations (slug, name, kind, country)
           VALUES ('kind-hearts', '{\"en\": \"Kind Hearts\"}', 'NGO', 'KZ');
         INSERT INTO projects (slug, organization_id, title, direction, status, country, published_at)
           SELECT 'winter-help', id, '{\"en\": \"Winter help\"}', 'SOCIAL', 'PUBLISHED', 'KZ', now()
           FROM organizations WHERE slug = 'kind-hearts';
         INSERT INTO projects (slug, organization_id, title, direction, status, country)
           SELECT 'secret-plan', id, '{\"en\": \"Secret plan\"}', 'SOCIAL', 'DRAFT', 'KZ'
           FROM organizations WHERE slug = 'kind-hearts';",
    )
    .await;
    let id_of = |table: &'static str, slug: &'static str| {
        let db = &db;
        async move {
            count(
                db,
                &format!("SELECT id AS n FROM {table} WHERE slug = '{slug}'"),
            )
            .await
        }
    };
    let org = encode(
        NodeType::Organization,
        id_of("organizations", "kind-hearts").await,
    )
    .0;
    let project = encode(NodeType::Project, id_of("projects", "winter-help").await).0;
    let draft = encode(NodeType::Project, id_of("projects", "secret-plan").await).0;

    let api = TestApi::start(&db, &redis).await;
    let anon = api.client();
    let admin = anon.with_token(&admin_u.token);
    let nominator = anon.with_token(&nominator_u.token);
    let (_, category) = nominating_award(&admin, "Linked Award", false).await;
    let nominate = |name: &'static str, kind: &'static str, project: Option<&str>| {
        let input = json!({ "input": {
            "categoryId": category, "nomineeName": name, "nomineeKind": kind,
            "projectId": project, "organizationId": org,
            "statement": "Years of work", "country": "KZ" } });
        let nominator = nominator.clone();
        async move { nominator.ok(SUBMIT, input).await["submitNomination"]["id"].clone() }
    };
    let by_project = nominate("Winter help", "PROJECT", Some(&project)).await;
    let by_draft = nominate("Secret plan", "PROJECT", Some(&draft)).await;
    let by_org = nominate("Kind Hearts", "ORGANIZATION", None).await;
    for id in [&by_project, &by_draft, &by_org] {
        admin
            .ok(MODERATE, json!({ "id": id, "d": "APPROVE" }))
            .await;
    }

    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Nomination {
        project { id slug } organization { id name } } } }";
    let d = anon
        .ok(q, json!({ "ids": [by_project, by_draft, by_org] }))
        .await;
    assert_eq!(d["nodes"][0]["project"]["slug"], "winter-help");
    assert_eq!(d["nodes"][0]["organization"]["name"], "Kind Hearts");
    assert!(
        d["nodes"][1]["project"].is_null(),
        "a draft project stays hidden behind a nomination"
    );
    assert_eq!(d["nodes"][1]["organization"]["id"], org);
    assert!(d["nodes"][2]["project"].is_null());
    assert_eq!(d["nodes"][2]["organization"]["id"], org);

    let d = admin.ok(q, json!({ "ids": [by_draft] })).await;
    assert_eq!(
        d["nodes"][0]["project"]["slug"], "secret-plan",
        "admins see drafts everywhere"
    );
}
