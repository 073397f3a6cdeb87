//! The abuse suite: what an outsider, a curious member or a cheater can learn or change, tried
//! over HTTP against the real api, PostgreSQL and Redis. Meant to be read in one sitting by a
//! security reviewer; docs/privacy.md says what is protected and why.
//!
//! Every check is a row of a table, with one expected answer per role: anonymous, an unrelated
//! member, the row's owner, an admin. A new type that implements `Node` (jurors, jury scores,
//! integrity signals…) is one more row in `node_rows`; a new restricted field one more row in
//! `field_rows`.
//!
//! 1. `node(id:)` for every Node type, as each role, with `nodes` agreeing and a hidden row
//!    answering exactly like a missing one.
//! 2. Every restricted field, read directly and inside a connection, as each role.
//! 3. Ids of one type where another is expected; malformed ids; a deleted row's id.
//! 4. Tokens of one kind used for another.
//! 5. Accounts made by a sign-in link get a neutral name; unsubscribe tokens carry no address.
//! 6. Excerpts and bodyHtml carry no markup or script from the usual payloads.
//! 7. signIn takes as long for an unknown email as for a wrong password.
//! 8. CORS: localhost in development, only the list in production.
//! 9. Votes: nobody but the voter learns a person's choice, not even from the counts of a
//!    category with a handful of votes.

use std::time::{Duration, Instant};

use birgemiz_api::graphql::ids::{NodeType, encode};
use birgemiz_schema::config::{AppEnv, RateLimit};
use birgemiz_schema::{subscriptions, tokens};
use birgemiz_tests::api::{TEST_SECRET, test_config};
use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::awards_common::{CAST, MODERATE, WsSubscription, nominating_award, open_voting, submit};
use crate::public_support::{count, org, published_project, token_of};

/// The four viewers every expectation is written for. A jury row whose `what` says "as another
/// juror" puts a fellow juror of the same award in the owner's column.
const ROLES: [&str; 4] = ["anonymous", "unrelated member", "owner", "admin"];

/// Declared by the manager on their jury seat: stored for the record, served to nobody.
const CONFLICT_REASON: &str = "The nominee is my cousin";

/// A jury row before it becomes a `FieldRow`: what, query, node id, pointer, owner, expectations.
type JuryRow<'a> = (
    &'static str,
    &'static str,
    &'a String,
    &'static str,
    &'a Gql,
    [Expect; 4],
);

/// What one role gets at a place in the response.
#[derive(Clone, Debug)]
enum Expect {
    /// Exactly this value (`null` for hidden).
    Is(Value),
    /// Something other than null (a value that differs from run to run).
    Present,
}
use Expect::{Is, Present};

fn null() -> Expect {
    Is(Value::Null)
}

fn check(what: &str, role: &str, got: &Value, expect: &Expect) {
    match expect {
        Is(v) => assert_eq!(got, v, "{what}, as {role}"),
        Present => assert!(!got.is_null(), "{what}, as {role}: expected a value"),
    }
}

/// Everything the tables read: four people, and one row of every type, made through the API.
struct World {
    // Kept alive for the world's lifetime: the api serves from them.
    _redis: TestRedis,
    _api: TestApi,
    anon: Gql,
    stranger: Gql,
    manager: Gql,
    volunteer: Gql,
    admin: Gql,
    manager_email: String,
    volunteer_email: String,
    manager_user: String,
    volunteer_user: String,
    admin_user: String,
    org: String,
    draft_project: String,
    published_project: String,
    published_project_slug: String,
    application: String,
    draft_post: String,
    published_post: String,
    published_post_slug: String,
    admin_post_slug: String,
    award: String,
    category: String,
    pending_nomination: String,
    approved_nomination: String,
    vote: String,
    digest_run: String,
    // The award's jury: a juror who scored the approved nomination, and the manager, who also
    // sits on it and declared a conflict (a juror who is shown publicly, as a post's author).
    juror: Gql,
    juror_email: String,
    juror_seat: String,
    manager_seat: String,
    criterion: String,
    jury_score: String,
}

fn id_of(v: &Value) -> String {
    v.as_str().expect("an id").to_owned()
}

impl World {
    async fn build(db: &TestDb) -> World {
        let redis = TestRedis::new();
        let mut config = test_config(db, &redis);
        // As in production: counts of a category with few votes stay hidden.
        config.live_counts_min_votes = 10;
        let api = TestApi::start_with(config).await;
        let anon = api.client();
        let admin_u = fixtures::user(db, "admin@abuse.kz", Kind::Admin).await;
        let manager_u = fixtures::user(db, "manager@abuse.kz", Kind::Verified).await;
        let volunteer_u = fixtures::user(db, "volunteer@abuse.kz", Kind::Verified).await;
        let stranger_u = fixtures::user(db, "stranger@abuse.kz", Kind::Verified).await;
        let juror_u = fixtures::user(db, "juror@abuse.kz", Kind::Verified).await;
        let admin = anon.with_token(&admin_u.token);
        let manager = anon.with_token(&manager_u.token);
        let volunteer = anon.with_token(&volunteer_u.token);
        let stranger = anon.with_token(&stranger_u.token);
        let juror = anon.with_token(&juror_u.token);
        manager
            .ok(
                "mutation { updateProfile(locale: RU) { locale } }",
                json!({}),
            )
            .await;

        let org_v = org(&manager, "Abuse Test Org", "NGO").await;
        let org_id = id_of(&org_v["id"]);
        let draft = manager
            .ok(
                "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
                json!({ "i": { "organizationId": org_id, "title": { "en": "Draft project" }, "direction": "SOCIAL" } }),
            )
            .await["createProject"]["id"]
            .clone();
        let published = published_project(&manager, &org_v["id"], "Published project").await;
        let application = volunteer
            .ok(
                "mutation($p: ID!) { applyToProject(projectId: $p, message: \"I can help\") { id } }",
                json!({ "p": published["id"] }),
            )
            .await["applyToProject"]["id"]
            .clone();
        let post = |publish: bool, org: Option<&str>, title: &str| {
            json!({ "i": { "title": { "en": title }, "body": { "en": "Body of the post" },
                           "organizationId": org, "publish": publish } })
        };
        const CREATE_POST: &str =
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id slug } }";
        let draft_post = manager
            .ok(CREATE_POST, post(false, Some(&org_id), "Draft news"))
            .await["createPost"]
            .clone();
        let published_post = manager
            .ok(CREATE_POST, post(true, Some(&org_id), "Published news"))
            .await["createPost"]
            .clone();
        let admin_post = admin
            .ok(CREATE_POST, post(true, None, "Platform news"))
            .await["createPost"]
            .clone();

        let (award, category) = nominating_award(&admin, "Abuse Award", true).await;
        let pending = submit(&volunteer, &category, "Pending Nominee").await;
        let approved = submit(&volunteer, &category, "Approved Nominee").await;
        admin
            .ok(
                MODERATE,
                json!({ "id": approved, "d": "APPROVE", "note": "Looks fine" }),
            )
            .await;
        // Criteria are set while nominations run; scoring opens when they close.
        let criterion = admin
            .ok(
                "mutation($i: CreateJudgingCriterionInput!) { createJudgingCriterion(input: $i) { id } }",
                json!({ "i": { "awardId": award, "title": { "en": "Impact" }, "weight": 1.0, "maxScore": 10 } }),
            )
            .await["createJudgingCriterion"]["id"]
            .clone();
        const INVITE: &str =
            "mutation($a: ID!, $e: String!) { inviteJuror(awardId: $a, email: $e) { id } }";
        let juror_seat = admin
            .ok(INVITE, json!({ "a": award, "e": juror_u.email }))
            .await["inviteJuror"]["id"]
            .clone();
        let manager_seat = admin
            .ok(INVITE, json!({ "a": award, "e": manager_u.email }))
            .await["inviteJuror"]["id"]
            .clone();
        open_voting(&admin, &award, 3600).await;
        let jury_score = juror
            .ok(
                "mutation($n: ID!, $s: [CriterionScoreInput!]!) {
                    scoreNomination(nominationId: $n, scores: $s, comment: \"Strong work\") { id } }",
                json!({ "n": approved, "s": [{ "criterionId": criterion, "score": 8 }] }),
            )
            .await["scoreNomination"]["id"]
            .clone();
        manager
            .ok(
                "mutation($n: ID!, $r: String!) { declareConflict(nominationId: $n, reason: $r) { conflict } }",
                json!({ "n": approved, "r": CONFLICT_REASON }),
            )
            .await;
        let vote = volunteer.ok(CAST, json!({ "n": approved })).await["castVote"]["id"].clone();
        let run = admin
            .ok("mutation { runDigestNow { id } }", json!({}))
            .await["runDigestNow"]["id"]
            .clone();

        World {
            _redis: redis,
            manager_email: manager_u.email.clone(),
            volunteer_email: volunteer_u.email.clone(),
            manager_user: encode(NodeType::User, manager_u.id).to_string(),
            volunteer_user: encode(NodeType::User, volunteer_u.id).to_string(),
            admin_user: encode(NodeType::User, admin_u.id).to_string(),
            org: org_id,
            draft_project: id_of(&draft),
            published_project: id_of(&published["id"]),
            published_project_slug: id_of(&published["slug"]),
            application: id_of(&application),
            draft_post: id_of(&draft_post["id"]),
            published_post: id_of(&published_post["id"]),
            published_post_slug: id_of(&published_post["slug"]),
            admin_post_slug: id_of(&admin_post["slug"]),
            award,
            category,
            pending_nomination: pending,
            approved_nomination: approved,
            vote: id_of(&vote),
            digest_run: id_of(&run),
            juror_email: juror_u.email.clone(),
            juror_seat: id_of(&juror_seat),
            manager_seat: id_of(&manager_seat),
            criterion: id_of(&criterion),
            jury_score: id_of(&jury_score),
            juror,
            _api: api,
            anon,
            stranger,
            manager,
            volunteer,
            admin,
        }
    }

    /// The four viewers for a row whose owner is `owner`.
    fn roles<'a>(&'a self, owner: &'a Gql) -> [&'a Gql; 4] {
        [&self.anon, &self.stranger, owner, &self.admin]
    }
}

/// Whether `node(id:)` finds the row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    Found,
    Null,
}
use Seen::{Found, Null};

/// One Node type's row: who owns it and what each role gets from `node(id:)`.
struct NodeRow<'a> {
    what: &'static str,
    id: &'a str,
    owner: &'a Gql,
    expect: [Seen; 4],
}

fn node_rows(w: &World) -> Vec<NodeRow<'_>> {
    vec![
        // A person is found by id only by themself and admins: ids can't be walked to list accounts.
        NodeRow {
            what: "User",
            id: &w.volunteer_user,
            owner: &w.volunteer,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "User (an admin)",
            id: &w.admin_user,
            owner: &w.admin,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Organization",
            id: &w.org,
            owner: &w.manager,
            expect: [Found; 4],
        },
        NodeRow {
            what: "Project, draft",
            id: &w.draft_project,
            owner: &w.manager,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Project, published",
            id: &w.published_project,
            owner: &w.manager,
            expect: [Found; 4],
        },
        NodeRow {
            what: "Application",
            id: &w.application,
            owner: &w.volunteer,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Post, draft",
            id: &w.draft_post,
            owner: &w.manager,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Post, published",
            id: &w.published_post,
            owner: &w.manager,
            expect: [Found; 4],
        },
        NodeRow {
            what: "Award",
            id: &w.award,
            owner: &w.admin,
            expect: [Found; 4],
        },
        NodeRow {
            what: "AwardCategory",
            id: &w.category,
            owner: &w.admin,
            expect: [Found; 4],
        },
        NodeRow {
            what: "Nomination, pending",
            id: &w.pending_nomination,
            owner: &w.volunteer,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Nomination, approved",
            id: &w.approved_nomination,
            owner: &w.volunteer,
            expect: [Found; 4],
        },
        // Admins see counts, never a person's choice.
        NodeRow {
            what: "Vote",
            id: &w.vote,
            owner: &w.volunteer,
            expect: [Null, Null, Found, Null],
        },
        // No owner but the platform: a manager stands in for "owner".
        NodeRow {
            what: "DigestRun",
            id: &w.digest_run,
            owner: &w.manager,
            expect: [Null, Null, Null, Found],
        },
        // A jury seat and a score: the juror and admins; never a fellow juror or the nominee.
        NodeRow {
            what: "Juror",
            id: &w.juror_seat,
            owner: &w.juror,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "Juror, as another juror",
            id: &w.juror_seat,
            owner: &w.manager,
            expect: [Null, Null, Null, Found],
        },
        NodeRow {
            what: "JuryScore",
            id: &w.jury_score,
            owner: &w.juror,
            expect: [Null, Null, Found, Found],
        },
        NodeRow {
            what: "JuryScore, as another juror",
            id: &w.jury_score,
            owner: &w.manager,
            expect: [Null, Null, Null, Found],
        },
        NodeRow {
            what: "JuryScore, as the nomination's submitter",
            id: &w.jury_score,
            owner: &w.volunteer,
            expect: [Null, Null, Null, Found],
        },
        // Criteria are the published rules of the award.
        NodeRow {
            what: "JudgingCriterion",
            id: &w.criterion,
            owner: &w.juror,
            expect: [Found; 4],
        },
        // Integrity signals go here when they are built.
    ]
}

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

#[tokio::test(flavor = "multi_thread")]
async fn node_of_every_type_as_each_role() {
    let db = TestDb::new().await;
    let w = World::build(&db).await;
    for row in node_rows(&w) {
        for ((role, gql), expect) in ROLES.iter().zip(w.roles(row.owner)).zip(row.expect) {
            let one = gql.raw(NODE, json!({ "id": row.id })).await;
            assert!(
                one.get("errors").is_none(),
                "{}, as {role}: {one}",
                row.what
            );
            let got = if one["data"]["node"].is_null() {
                Null
            } else {
                Found
            };
            assert_eq!(got, expect, "node({}) of a {}, as {role}", row.id, row.what);
            if got == Found {
                assert_eq!(one["data"]["node"]["id"], row.id);
            }
            let many = gql.ok(NODES, json!({ "ids": [row.id] })).await;
            assert_eq!(
                many["nodes"][0], one["data"]["node"],
                "nodes agrees, {} as {role}",
                row.what
            );
        }
    }

    // A hidden account answers byte for byte like one that does not exist.
    let missing = encode(NodeType::User, 987_654_321).to_string();
    for gql in [&w.anon, &w.stranger, &w.manager] {
        let hidden = gql.raw(NODE, json!({ "id": w.volunteer_user })).await;
        let absent = gql.raw(NODE, json!({ "id": missing })).await;
        assert_eq!(hidden, absent);
        assert_eq!(hidden, json!({ "data": { "node": null } }));
    }
    // Walking the ids finds nobody.
    let walk: Vec<String> = (1..=50)
        .map(|n| encode(NodeType::User, n).to_string())
        .collect();
    let found = w.anon.ok(NODES, json!({ "ids": walk })).await;
    assert!(
        found["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_null),
        "{found}"
    );
}

/// One restricted field: a query, where to look in its answer, who owns the row, and what each
/// role finds there (a place under a null parent reads as null).
struct FieldRow<'a> {
    what: &'static str,
    query: &'static str,
    vars: Value,
    pointer: String,
    owner: &'a Gql,
    expect: [Expect; 4],
}

const AUTHOR: &str = "query($s: String!) { post(slug: $s) { author { id displayName email role emailVerified locale createdAt
    organizations { role } applications { totalCount } votes { id } nominations { totalCount } } } }";
const AUTHORS_IN_LIST: &str = "query($o: ID!) { posts(filter: { organizationId: $o }) { nodes { author { displayName email role emailVerified locale createdAt
    organizations { role } applications { totalCount } votes { id } nominations { totalCount } } } } }";
const ORG_MANAGERS: &str = "query($id: ID!) { node(id: $id) { ... on Organization { managers { role user { displayName email } } } } }";
const ORG_MANAGERS_IN_LIST: &str =
    "{ organizations { nodes { managers { role user { displayName email } } } } }";
const PROJECT_APPLICATIONS: &str =
    "query($s: String!) { project(slug: $s) { applications { totalCount
    nodes { contactEmail message volunteer { displayName email } } } } }";
const APPLICATION: &str = "query($id: ID!) { node(id: $id) { ... on Application { contactEmail volunteer { displayName email role } } } }";
const NOMINATION: &str = "query($id: ID!) { node(id: $id) { ... on Nomination { submittedBy { id email } moderationNote voteCount } } }";
const NOMINATIONS_IN_LIST: &str =
    "query($id: ID!) { node(id: $id) { ... on AwardCategory { voteCount viewerVote { id }
    nominations { nodes { submittedBy { id } moderationNote voteCount } } } } }";
const AWARD_QUEUE: &str = "query($id: ID!) { node(id: $id) { ... on Award { nominations { totalCount nodes { submittedBy { id } } } } } }";
const DIGEST_RUNS: &str = "{ digestRuns { totalCount } }";
const JUROR_SEAT: &str = "query($id: ID!) { node(id: $id) { ... on Juror { user { email } progress { scored conflicts }
    assignments { totalCount nodes { conflict nomination { voteCount } score { id comment } } } } } }";
const AWARD_JURY: &str = "query($id: ID!) { node(id: $id) { ... on Award { criteria { id }
    jurors { totalCount nodes { user { email } assignments { nodes { conflict score { comment } } } } } } } }";
const JURY_SCORE: &str = "query($id: ID!) { node(id: $id) { ... on JuryScore { total comment juror { user { email } } } } }";
const VIEWER_SEATS: &str = "{ viewer { jurorSeats { id
    assignments { nodes { nomination { voteCount } score { comment } } } } } }";
const AUTHOR_SEATS: &str = "query($s: String!) { post(slug: $s) { author { jurorSeats { id } } } }";
const AUTHOR_SEATS_IN_LIST: &str = "query($o: ID!) { posts(filter: { organizationId: $o }) { nodes { author { jurorSeats { id } } } } }";

fn field_rows(w: &World) -> Vec<FieldRow<'_>> {
    let epoch = || Is(json!("1970-01-01T00:00:00+00:00"));
    let mgr = w.manager_email.as_str();
    let vol = w.volunteer_email.as_str();
    let mut rows = Vec::new();
    // A person shown publicly is a display name; the non-null fields read as neutral values.
    for (what, query, vars, prefix) in [
        (
            "a post's author, read directly",
            AUTHOR,
            json!({ "s": w.published_post_slug }),
            "/post/author",
        ),
        (
            "a post's author, inside posts",
            AUTHORS_IN_LIST,
            json!({ "o": w.org }),
            "/posts/nodes/0/author",
        ),
    ] {
        let name = Is(json!("manager"));
        let cases: Vec<(&str, [Expect; 4])> = vec![
            (
                "displayName",
                [name.clone(), name.clone(), name.clone(), name],
            ),
            ("email", [null(), null(), Is(json!(mgr)), Is(json!(mgr))]),
            (
                "emailVerified",
                [
                    Is(json!(false)),
                    Is(json!(false)),
                    Is(json!(true)),
                    Is(json!(true)),
                ],
            ),
            (
                "locale",
                [
                    Is(json!("KK")),
                    Is(json!("KK")),
                    Is(json!("RU")),
                    Is(json!("RU")),
                ],
            ),
            ("createdAt", [epoch(), epoch(), Present, Present]),
            ("organizations", [null(), null(), Present, Present]),
            ("applications", [null(), null(), Present, Present]),
            // A person's votes: themself only, not even admins.
            ("votes", [null(), null(), Present, null()]),
            ("nominations", [null(), null(), Present, Present]),
        ];
        for (field, expect) in cases {
            rows.push(FieldRow {
                what,
                query,
                vars: vars.clone(),
                pointer: format!("{prefix}/{field}"),
                owner: &w.manager,
                expect,
            });
        }
    }
    // An admin who writes news appears as a member to everyone else.
    rows.push(FieldRow {
        what: "an admin author's role",
        query: AUTHOR,
        vars: json!({ "s": w.admin_post_slug }),
        pointer: "/post/author/role".into(),
        owner: &w.admin,
        expect: [
            Is(json!("MEMBER")),
            Is(json!("MEMBER")),
            Is(json!("ADMIN")),
            Is(json!("ADMIN")),
        ],
    });
    // Managers of an organization: its managers and admins; a fellow manager's email is still theirs.
    for (what, query, pointer) in [
        (
            "managers, read directly",
            ORG_MANAGERS,
            "/node/managers/0/role",
        ),
        (
            "managers, inside organizations",
            ORG_MANAGERS_IN_LIST,
            "/organizations/nodes/0/managers/0/role",
        ),
    ] {
        rows.push(FieldRow {
            what,
            query,
            vars: json!({ "id": w.org }),
            pointer: pointer.into(),
            owner: &w.manager,
            expect: [null(), null(), Is(json!("OWNER")), Is(json!("OWNER"))],
        });
    }
    rows.push(FieldRow {
        what: "a manager's email through managers",
        query: ORG_MANAGERS,
        vars: json!({ "id": w.org }),
        pointer: "/node/managers/0/user/email".into(),
        owner: &w.manager,
        expect: [null(), null(), Is(json!(mgr)), Is(json!(mgr))],
    });
    // Applications: the project's managers and admins; the volunteer's account stays theirs.
    for (pointer, expect) in [
        (
            "/project/applications/totalCount",
            [null(), null(), Is(json!(1)), Is(json!(1))],
        ),
        (
            "/project/applications/nodes/0/contactEmail",
            [null(), null(), Is(json!(vol)), Is(json!(vol))],
        ),
        (
            "/project/applications/nodes/0/volunteer/email",
            [null(), null(), null(), Is(json!(vol))],
        ),
        (
            "/project/applications/nodes/0/volunteer/displayName",
            [
                null(),
                null(),
                Is(json!("volunteer")),
                Is(json!("volunteer")),
            ],
        ),
    ] {
        rows.push(FieldRow {
            what: "a project's applications, inside its connection",
            query: PROJECT_APPLICATIONS,
            vars: json!({ "s": w.published_project_slug }),
            pointer: pointer.into(),
            owner: &w.manager,
            expect,
        });
    }
    for (pointer, expect) in [
        (
            "/node/contactEmail",
            [null(), null(), null(), Is(json!(vol))],
        ),
        (
            "/node/volunteer/email",
            [null(), null(), Is(json!(vol)), Is(json!(vol))],
        ),
        (
            "/node/volunteer/role",
            [null(), null(), Is(json!("MEMBER")), Is(json!("MEMBER"))],
        ),
    ] {
        rows.push(FieldRow {
            what: "an application, read directly by its volunteer",
            query: APPLICATION,
            vars: json!({ "id": w.application }),
            pointer: pointer.into(),
            owner: &w.volunteer,
            expect,
        });
    }
    rows.push(FieldRow {
        what: "an application, read directly by the project's manager",
        query: APPLICATION,
        vars: json!({ "id": w.application }),
        pointer: "/node/volunteer/email".into(),
        owner: &w.manager,
        expect: [null(), null(), null(), Is(json!(vol))],
    });
    // Nominations: the submitter and the moderation note for the submitter and admins. The
    // category has one vote, below the minimum: its counts are hidden from everyone.
    let note = || Is(json!("Looks fine"));
    for (query, id, pointer, expect) in [
        (
            NOMINATION,
            &w.approved_nomination,
            "/node/submittedBy/id",
            [
                null(),
                null(),
                Is(json!(w.volunteer_user)),
                Is(json!(w.volunteer_user)),
            ],
        ),
        (
            NOMINATION,
            &w.approved_nomination,
            "/node/submittedBy/email",
            [null(), null(), Is(json!(vol)), Is(json!(vol))],
        ),
        (
            NOMINATION,
            &w.approved_nomination,
            "/node/moderationNote",
            [null(), null(), note(), note()],
        ),
        (
            NOMINATION,
            &w.approved_nomination,
            "/node/voteCount",
            [null(), null(), null(), null()],
        ),
        (
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/nominations/nodes/0/submittedBy/id",
            [
                null(),
                null(),
                Is(json!(w.volunteer_user)),
                Is(json!(w.volunteer_user)),
            ],
        ),
        (
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/nominations/nodes/0/moderationNote",
            [null(), null(), note(), note()],
        ),
        (
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/nominations/nodes/0/voteCount",
            [null(), null(), null(), null()],
        ),
        (
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/voteCount",
            [null(), null(), null(), null()],
        ),
        (
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/viewerVote/id",
            [null(), null(), Is(json!(w.vote)), null()],
        ),
        (
            AWARD_QUEUE,
            &w.award,
            "/node/nominations/totalCount",
            [null(), null(), null(), Is(json!(2))],
        ),
    ] {
        rows.push(FieldRow {
            what: "a nomination's restricted fields",
            query,
            vars: json!({ "id": id }),
            pointer: pointer.into(),
            owner: &w.volunteer,
            expect,
        });
    }
    // The jury. A seat, its assignments and its scores: the juror and admins, never a fellow
    // juror; the award's jury list: admins. Public counts stay hidden from jurors too.
    let jemail = || Is(json!(w.juror_email));
    let comment = || Is(json!("Strong work"));
    let hidden = || Is(json!({ "voteCount": null }));
    let jury: Vec<JuryRow<'_>> = vec![
        (
            "a juror's seat",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/user/email",
            &w.juror,
            [null(), null(), jemail(), jemail()],
        ),
        (
            "a juror's seat",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/progress/scored",
            &w.juror,
            [null(), null(), Is(json!(1)), Is(json!(1))],
        ),
        (
            "a juror's assignments",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/assignments/totalCount",
            &w.juror,
            [null(), null(), Is(json!(1)), Is(json!(1))],
        ),
        (
            "a juror's assignments",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/assignments/nodes/0/score/id",
            &w.juror,
            [
                null(),
                null(),
                Is(json!(w.jury_score)),
                Is(json!(w.jury_score)),
            ],
        ),
        (
            "a juror's assignments",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/assignments/nodes/0/score/comment",
            &w.juror,
            [null(), null(), comment(), comment()],
        ),
        (
            "a juror's assignments",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/assignments/nodes/0/nomination",
            &w.juror,
            [null(), null(), hidden(), hidden()],
        ),
        (
            "a juror's seat, as another juror",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/user/email",
            &w.manager,
            [null(), null(), null(), jemail()],
        ),
        (
            "a juror's assignments, as another juror",
            JUROR_SEAT,
            &w.juror_seat,
            "/node/assignments/totalCount",
            &w.manager,
            [null(), null(), null(), Is(json!(1))],
        ),
        (
            "a conflict",
            JUROR_SEAT,
            &w.manager_seat,
            "/node/progress/conflicts",
            &w.manager,
            [null(), null(), Is(json!(1)), Is(json!(1))],
        ),
        (
            "a conflict",
            JUROR_SEAT,
            &w.manager_seat,
            "/node/assignments/nodes/0/conflict",
            &w.manager,
            [null(), null(), Is(json!(true)), Is(json!(true))],
        ),
        (
            "a conflict, as another juror",
            JUROR_SEAT,
            &w.manager_seat,
            "/node/assignments/nodes/0/conflict",
            &w.juror,
            [null(), null(), null(), Is(json!(true))],
        ),
        (
            "a score, read directly",
            JURY_SCORE,
            &w.jury_score,
            "/node/comment",
            &w.juror,
            [null(), null(), comment(), comment()],
        ),
        (
            "a score, read directly",
            JURY_SCORE,
            &w.jury_score,
            "/node/juror/user/email",
            &w.juror,
            [null(), null(), jemail(), jemail()],
        ),
        (
            "a score, read directly as another juror",
            JURY_SCORE,
            &w.jury_score,
            "/node/total",
            &w.manager,
            [null(), null(), null(), Is(json!(0.8))],
        ),
        (
            "an award's criteria",
            AWARD_JURY,
            &w.award,
            "/node/criteria/0/id",
            &w.juror,
            [
                Is(json!(w.criterion)),
                Is(json!(w.criterion)),
                Is(json!(w.criterion)),
                Is(json!(w.criterion)),
            ],
        ),
        (
            "an award's jurors",
            AWARD_JURY,
            &w.award,
            "/node/jurors/totalCount",
            &w.juror,
            [null(), null(), null(), Is(json!(2))],
        ),
        (
            "an award's jurors",
            AWARD_JURY,
            &w.award,
            "/node/jurors/nodes/0/user/email",
            &w.juror,
            [null(), null(), null(), jemail()],
        ),
        (
            "an award's jurors",
            AWARD_JURY,
            &w.award,
            "/node/jurors/nodes/0/assignments/nodes/0/score/comment",
            &w.juror,
            [null(), null(), null(), comment()],
        ),
        (
            "hidden counts, as a juror",
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/voteCount",
            &w.juror,
            [null(), null(), null(), null()],
        ),
        (
            "hidden counts, as a juror",
            NOMINATIONS_IN_LIST,
            &w.category,
            "/node/nominations/nodes/0/voteCount",
            &w.juror,
            [null(), null(), null(), null()],
        ),
    ];
    for (what, query, id, pointer, owner, expect) in jury {
        rows.push(FieldRow {
            what,
            query,
            vars: json!({ "id": id }),
            pointer: pointer.into(),
            owner,
            expect,
        });
    }
    // Jury seats are the viewer's own: another person's, even one shown publicly, read as empty.
    let seats = || Is(json!([{ "id": w.manager_seat }]));
    for (what, query, vars, pointer) in [
        (
            "a juror's seats, through a post's author",
            AUTHOR_SEATS,
            json!({ "s": w.published_post_slug }),
            "/post/author/jurorSeats",
        ),
        (
            "a juror's seats, inside posts",
            AUTHOR_SEATS_IN_LIST,
            json!({ "o": w.org }),
            "/posts/nodes/0/author/jurorSeats",
        ),
    ] {
        rows.push(FieldRow {
            what,
            query,
            vars,
            pointer: pointer.into(),
            owner: &w.manager,
            expect: [Is(json!([])), Is(json!([])), seats(), Is(json!([]))],
        });
    }
    for (pointer, expect) in [
        (
            "/viewer/jurorSeats/0/id",
            [null(), null(), Is(json!(w.juror_seat)), null()],
        ),
        (
            "/viewer/jurorSeats/0/assignments/nodes/0/score/comment",
            [null(), null(), comment(), null()],
        ),
        (
            "/viewer/jurorSeats/0/assignments/nodes/0/nomination",
            [null(), null(), hidden(), null()],
        ),
    ] {
        rows.push(FieldRow {
            what: "the viewer's own seats",
            query: VIEWER_SEATS,
            vars: json!({}),
            pointer: pointer.into(),
            owner: &w.juror,
            expect,
        });
    }
    rows.push(FieldRow {
        what: "the integrity report",
        query: "query($id: ID!) { node(id: $id) { ... on Award { integrityReport { votesTotal signals { id } } } } }",
        vars: json!({ "id": w.award }),
        pointer: "/node/integrityReport".into(),
        owner: &w.manager,
        expect: [
            null(),
            null(),
            null(),
            Is(json!({ "votesTotal": 1, "signals": [] })),
        ],
    });
    rows.push(FieldRow {
        what: "digest runs",
        query: DIGEST_RUNS,
        vars: json!({}),
        pointer: "/digestRuns/totalCount".into(),
        owner: &w.manager,
        expect: [null(), null(), null(), Is(json!(1))],
    });
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn every_restricted_field_directly_and_in_connections_as_each_role() {
    let db = TestDb::new().await;
    let w = World::build(&db).await;
    for row in field_rows(&w) {
        for ((role, gql), expect) in ROLES.iter().zip(w.roles(row.owner)).zip(&row.expect) {
            let body = gql.raw(row.query, row.vars.clone()).await;
            // Hidden fields are null, never errors (except the BAD_USER_INPUT of a filter that
            // is not theirs, which none of these rows asks for).
            assert!(
                body.get("errors").is_none(),
                "{} as {role}: {body:#}",
                row.what
            );
            let got = body["data"]
                .pointer(&row.pointer)
                .cloned()
                .unwrap_or(Value::Null);
            check(
                &format!("{} ({})", row.what, row.pointer),
                role,
                &got,
                expect,
            );
        }
    }
    // A conflict's reason is kept for the record and served to nobody, wherever they look.
    let stored =
        format!("SELECT count(*) AS n FROM juror_conflicts WHERE reason = '{CONFLICT_REASON}'");
    assert_eq!(count(&db, &stored).await, 1);
    for gql in [&w.anon, &w.stranger, &w.juror, &w.manager, &w.admin] {
        for (query, vars) in [
            (AWARD_JURY, json!({ "id": w.award })),
            (JUROR_SEAT, json!({ "id": w.manager_seat })),
            (VIEWER_SEATS, json!({})),
        ] {
            let body = gql.raw(query, vars).await.to_string();
            assert!(!body.contains(CONFLICT_REASON), "{body}");
        }
    }
}

/// Counts of the rows a mutation might have changed: equal before and after a refused one.
async fn snapshot(db: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "users",
        "organizations",
        "organization_managers",
        "projects",
        "applications",
        "posts",
        "awards",
        "award_categories",
        "nominations",
        "votes",
        "vote_events",
        "vote_quarantines",
        "vote_quarantine_log",
        "outbox",
        "email_subscriptions",
        "sessions",
    ] {
        out.push(count(db, &format!("SELECT count(*) AS n FROM {table}")).await);
    }
    out.push(
        count(
            db,
            "SELECT count(*) AS n FROM one_time_tokens WHERE used_at IS NOT NULL",
        )
        .await,
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_of_the_wrong_type_malformed_ids_and_deleted_rows_are_refused_and_change_nothing() {
    let db = TestDb::new().await;
    let w = World::build(&db).await;
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    // A deleted category (allowed while it has no nominations, before voting: a fresh award).
    let (_, fresh_category) = nominating_award(&w.admin, "Second Award", false).await;
    w.admin
        .ok(
            "mutation($id: ID!) { deleteAwardCategory(id: $id) { id } }",
            json!({ "id": fresh_category }),
        )
        .await;

    // No signal is in the category (one honest vote): the id of one that might be.
    let category_raw = birgemiz_api::graphql::ids::decode_any(&w.category)
        .unwrap()
        .1;
    let signal = encode(NodeType::IntegritySignal, category_raw << 20).0;
    const QUARANTINE: &str =
        "mutation($s: ID!) { quarantineVotes(signalId: $s, reason: \"r\") { id } }";
    const RELEASE: &str = "mutation($s: ID!) { releaseVotes(signalId: $s) { id } }";

    let before = snapshot(&db).await;
    let cases: Vec<(&str, &Gql, &str, Value, &str)> = vec![
        (
            "a quarantine, anonymously",
            &w.anon,
            QUARANTINE,
            json!({ "s": signal }),
            "UNAUTHENTICATED",
        ),
        (
            "a quarantine by a volunteer",
            &w.volunteer,
            QUARANTINE,
            json!({ "s": signal }),
            "FORBIDDEN",
        ),
        (
            "a release by an organization's owner",
            &w.manager,
            RELEASE,
            json!({ "s": signal }),
            "FORBIDDEN",
        ),
        (
            "a signal that is not in the report",
            &w.admin,
            QUARANTINE,
            json!({ "s": signal }),
            "NOT_FOUND",
        ),
        (
            "an award's id as a signal",
            &w.admin,
            RELEASE,
            json!({ "s": w.award }),
            "BAD_USER_INPUT",
        ),
        (
            "a project's id as a nomination",
            &w.stranger,
            "mutation($n: ID!) { castVote(nominationId: $n) { id } }",
            json!({ "n": w.published_project }),
            "BAD_USER_INPUT",
        ),
        (
            "a vote's id as a category",
            &w.volunteer,
            "mutation($c: ID!) { retractVote(categoryId: $c) { id } }",
            json!({ "c": w.vote }),
            "BAD_USER_INPUT",
        ),
        (
            "an organization's id as a project",
            &w.stranger,
            "mutation($p: ID!) { applyToProject(projectId: $p) { id } }",
            json!({ "p": w.org }),
            "BAD_USER_INPUT",
        ),
        (
            "a user's id as an organization",
            &w.manager,
            "mutation($o: ID!) { updateOrganization(id: $o, input: { city: \"X\" }) { id } }",
            json!({ "o": w.manager_user }),
            "BAD_USER_INPUT",
        ),
        (
            "a vote's id as an application",
            &w.volunteer,
            "mutation($a: ID!) { withdrawApplication(id: $a) { id } }",
            json!({ "a": w.vote }),
            "BAD_USER_INPUT",
        ),
        (
            "a post's id as a nomination",
            &w.admin,
            "mutation($n: ID!) { moderateNomination(id: $n, decision: REJECT) { id } }",
            json!({ "n": w.published_post }),
            "BAD_USER_INPUT",
        ),
        (
            "an award's id as a category",
            &w.volunteer,
            "mutation($c: ID!) { submitNomination(input: { categoryId: $c, nomineeName: \"X\", nomineeKind: PERSON, statement: \"S\", country: \"KZ\" }) { id } }",
            json!({ "c": w.award }),
            "BAD_USER_INPUT",
        ),
        (
            "not base64",
            &w.anon,
            NODE,
            json!({ "id": "!!not an id!!" }),
            "BAD_USER_INPUT",
        ),
        (
            "an unknown type",
            &w.anon,
            NODE,
            json!({ "id": b64("Spaceship:1") }),
            "BAD_USER_INPUT",
        ),
        (
            "a non-numeric id",
            &w.anon,
            NODE,
            json!({ "id": b64("User:six") }),
            "BAD_USER_INPUT",
        ),
        (
            "someone else's vote to retract",
            &w.stranger,
            "mutation($c: ID!) { retractVote(categoryId: $c) { viewerVote { id } } }",
            json!({ "c": w.category }),
            "OK",
        ),
        (
            "a deleted category, updated",
            &w.admin,
            "mutation($c: ID!) { updateAwardCategory(id: $c, input: { title: { en: \"X\" } }) { id } }",
            json!({ "c": fresh_category }),
            "NOT_FOUND",
        ),
        (
            "a deleted category, nominated in",
            &w.volunteer,
            "mutation($c: ID!) { submitNomination(input: { categoryId: $c, nomineeName: \"X\", nomineeKind: PERSON, statement: \"S\", country: \"KZ\" }) { id } }",
            json!({ "c": fresh_category }),
            "NOT_FOUND",
        ),
        (
            "someone else's application",
            &w.stranger,
            "mutation($a: ID!) { withdrawApplication(id: $a) { id } }",
            json!({ "a": w.application }),
            "NOT_FOUND",
        ),
    ];
    for (what, gql, query, vars, expected) in cases {
        let body = gql.raw(query, vars).await;
        let got = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("OK");
        assert_eq!(got, expected, "{what}: {body}");
        if expected == "BAD_USER_INPUT" {
            assert!(
                body["errors"][0]["extensions"]["field"].is_string(),
                "{what} names its field: {body}"
            );
        }
        assert_eq!(snapshot(&db).await, before, "{what} changed nothing");
    }
    // The deleted row is gone for everyone, admins included, exactly like a missing one.
    for gql in [&w.anon, &w.admin] {
        assert_eq!(
            gql.ok(NODE, json!({ "id": fresh_category })).await["node"],
            Value::Null
        );
    }
    // The stranger's retract left the volunteer's vote where it was.
    let mine = w
        .volunteer
        .ok(NOMINATIONS_IN_LIST, json!({ "id": w.category }))
        .await;
    assert_eq!(mine["node"]["viewerVote"]["id"], json!(w.vote));
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_of_one_kind_do_not_work_for_another() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let member = fixtures::user(&db, "member@tokens.kz", Kind::Unverified).await;
    gql.ok(
        "mutation { requestSignInLink(email: \"member@tokens.kz\") }",
        json!({}),
    )
    .await;
    let sign_in = token_of(&db, "SIGN_IN_LINK", "member@tokens.kz").await;
    gql.with_token(&member.token)
        .ok("mutation { resendVerification }", json!({}))
        .await;
    let verify = token_of(&db, "VERIFY_EMAIL", "member@tokens.kz").await;
    gql.ok(
        "mutation { subscribe(input: { email: \"reader@tokens.kz\" }) { status } }",
        json!({}),
    )
    .await;
    let confirm = token_of(&db, "SUBSCRIPTION_CONFIRMATION", "reader@tokens.kz").await;
    let unsubscribe = fixtures::unsubscribe_token(&db, "member@tokens.kz").await;
    let session = member.token.clone();

    const SIGN_IN: &str = "mutation($t: String!) { signInWithLink(token: $t) { token } }";
    const VERIFY: &str = "mutation($t: String!) { verifyEmail(token: $t) { id } }";
    const CONFIRM: &str = "mutation($t: String!) { confirmSubscription(token: $t) { status } }";
    const UNSUBSCRIBE: &str = "mutation($t: String!) { unsubscribe(token: $t) { status } }";
    const PREFERENCES: &str = "query($t: String!) { emailSubscription(token: $t) { email } }";
    let wrong: [(&str, &str, &str); 12] = [
        ("sign-in link to confirm a subscription", CONFIRM, &sign_in),
        ("sign-in link to verify an email", VERIFY, &sign_in),
        ("sign-in link to unsubscribe", UNSUBSCRIBE, &sign_in),
        ("verification link to sign in", SIGN_IN, &verify),
        ("verification link to confirm", CONFIRM, &verify),
        ("confirmation link to sign in", SIGN_IN, &confirm),
        ("confirmation link to unsubscribe", UNSUBSCRIBE, &confirm),
        ("unsubscribe link to sign in", SIGN_IN, &unsubscribe),
        ("unsubscribe link to confirm", CONFIRM, &unsubscribe),
        ("session token to sign in", SIGN_IN, &session),
        ("session token to unsubscribe", UNSUBSCRIBE, &session),
        ("session token to verify", VERIFY, &session),
    ];
    let before = snapshot(&db).await;
    for (what, query, token) in wrong {
        let body = gql.raw(query, json!({ "t": token })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "token", "{what}");
        assert_eq!(
            snapshot(&db).await,
            before,
            "{what} changed nothing (and used no token up)"
        );
    }
    // A confirmation link opens its own subscription's settings (issue: the second use of a
    // confirmation link must still find it), and nothing else's.
    assert_eq!(
        gql.ok(PREFERENCES, json!({ "t": &confirm })).await["emailSubscription"]["email"],
        "reader@tokens.kz",
        "a confirmation link reads its own subscription"
    );
    for (what, token) in [("sign-in link", &sign_in), ("session", &session)] {
        assert_eq!(
            gql.ok(PREFERENCES, json!({ "t": token })).await["emailSubscription"],
            Value::Null,
            "{what} reads no subscription"
        );
    }
    // A link token is no bearer token.
    // A link token is no bearer token: it is refused like any token that names no session.
    for token in [&sign_in, &verify, &confirm, &unsubscribe] {
        let body = gql
            .with_token(token)
            .raw("{ viewer { id } }", json!({}))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{body}"
        );
    }
    // Each still works for what it was made for, once.
    assert!(gql.ok(SIGN_IN, json!({ "t": sign_in })).await["signInWithLink"]["token"].is_string());
    assert!(gql.ok(VERIFY, json!({ "t": verify })).await["verifyEmail"]["id"].is_string());
    assert_eq!(
        gql.ok(CONFIRM, json!({ "t": confirm })).await["confirmSubscription"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        gql.ok(UNSUBSCRIBE, json!({ "t": unsubscribe })).await["unsubscribe"]["status"],
        "UNSUBSCRIBED"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_link_accounts_get_a_neutral_name_in_their_language() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    for (lang, email, prefix) in [
        ("kk", "nurlan.magic@mail.kz", "Ерікті "),
        ("ru", "olga.petrova@mail.ru", "Волонтёр "),
        ("en", "john.smith@mail.com", "Volunteer "),
    ] {
        let gql = api.client().with_locale(lang);
        gql.ok(
            "mutation($e: String!) { requestSignInLink(email: $e) }",
            json!({ "e": email }),
        )
        .await;
        let token = token_of(&db, "SIGN_IN_LINK", email).await;
        let d = gql
            .ok("mutation($t: String!) { signInWithLink(token: $t) { user { displayName locale } } }", json!({ "t": token }))
            .await;
        let name = d["signInWithLink"]["user"]["displayName"].as_str().unwrap();
        let number = name
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{name:?} in {lang}"));
        assert!(
            number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()),
            "{name:?}"
        );
        let local = email.split('@').next().unwrap();
        assert!(!name.contains(local) && !name.contains(local.split('.').next().unwrap()));
        assert_eq!(d["signInWithLink"]["user"]["locale"], lang.to_uppercase());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unsubscribe_tokens_carry_no_address_and_old_ones_are_honoured_until_the_cutoff() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client();
    let email = "subscriber@mail.kz";
    gql.ok(
        "mutation($e: String!) { subscribe(input: { email: $e }) { status } }",
        json!({ "e": email }),
    )
    .await;
    let confirm = token_of(&db, "SUBSCRIPTION_CONFIRMATION", email).await;
    gql.ok(
        "mutation($t: String!) { confirmSubscription(token: $t) { status } }",
        json!({ "t": confirm }),
    )
    .await;

    // The token the worker puts in every bulk email: an id and a MAC, nothing readable.
    let token = fixtures::unsubscribe_token(&db, email).await;
    let bytes = b64.decode(&token).expect("one base64url blob");
    let text = String::from_utf8_lossy(&bytes);
    for part in [email, "subscriber", "mail.kz"] {
        assert!(
            !text.contains(part) && !token.contains(&b64.encode(part)),
            "{token} reveals {part}"
        );
    }
    const READ: &str = "query($t: String!) { emailSubscription(token: $t) { email status } }";
    const UNSUBSCRIBE: &str =
        "mutation($t: String!) { unsubscribe(token: $t, topics: [WEEKLY_DIGEST]) { status } }";
    assert_eq!(
        gql.ok(READ, json!({ "t": token })).await["emailSubscription"]["email"],
        email
    );
    // Tampered: one character changed.
    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        gql.ok(READ, json!({ "t": tampered })).await["emailSubscription"],
        Value::Null
    );
    let body = gql.raw(UNSUBSCRIBE, json!({ "t": tampered })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // A token of the old format (base64 of the address, then its MAC) from an email already
    // sent: honoured until LEGACY_UNSUBSCRIBE_TOKENS_UNTIL, then refused with a clear message.
    let legacy = tokens::sign(
        TEST_SECRET,
        subscriptions::LEGACY_UNSUBSCRIBE_PURPOSE,
        email,
    );
    assert_eq!(
        gql.ok(READ, json!({ "t": legacy })).await["emailSubscription"]["status"],
        "ACTIVE"
    );
    let mut after_cutoff = test_config(&db, &redis);
    after_cutoff.legacy_unsubscribe_tokens_until =
        Some(chrono::Utc::now() - chrono::Duration::days(1));
    let strict_api = TestApi::start_with(after_cutoff).await;
    let strict = strict_api.client();
    let before = snapshot(&db).await;
    let body = strict.raw(UNSUBSCRIBE, json!({ "t": legacy })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "token");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ескі хаттан"),
        "in the default language, Kazakh: {body}"
    );
    assert_eq!(snapshot(&db).await, before);
    // The new token works on that api as on any other.
    assert_eq!(
        strict.ok(UNSUBSCRIBE, json!({ "t": token })).await["unsubscribe"]["status"],
        "UNSUBSCRIBED"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn excerpts_are_plain_text_and_body_html_is_sanitized() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let admin_u = fixtures::user(&db, "admin@xss.kz", Kind::Admin).await;
    let admin = api.client().with_token(&admin_u.token);
    let body = "# Hello\n\nText <script>alert(1)</script> and <img src=x onerror=alert(2)> \
                <a href=\"javascript:alert(3)\" onclick=\"alert(4)\">a link</a>.\n\n\
                <script>alert(5)</script>\n\n\
                [click me](javascript:alert(6)) ![pic](javascript:alert(7)) \
                <iframe src=\"https://evil.kz\"></iframe><style>body{}</style>**bold** [ok](https://birgemiz.kz)";
    let created = admin
        .ok(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { slug } }",
            json!({ "i": { "title": { "en": "XSS" }, "body": { "en": body }, "publish": true } }),
        )
        .await;
    let slug = created["createPost"]["slug"].as_str().unwrap();
    let one = api
        .client()
        .ok(
            "query($s: String!) { post(slug: $s) { excerpt bodyHtml } }",
            json!({ "s": slug }),
        )
        .await;
    let list = api
        .client()
        .ok("{ posts { nodes { excerpt bodyHtml } } }", json!({}))
        .await;
    for post in [&one["post"], &list["posts"]["nodes"][0]] {
        let excerpt = post["excerpt"].as_str().unwrap();
        assert_eq!(excerpt, "Hello Text and a link. click me pic bold ok");
        let html = post["bodyHtml"].as_str().unwrap();
        for bad in [
            "<script",
            "alert(1)",
            "alert(5)",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "<style",
        ] {
            assert!(
                !html.to_lowercase().contains(bad),
                "{bad} survived in {html}"
            );
        }
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("href=\"https://birgemiz.kz\""), "{html}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_with_an_unknown_email_takes_as_long_as_a_wrong_password() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = test_config(&db, &redis);
    let plenty = RateLimit {
        max: 1000,
        window_secs: 3600,
    };
    config.rate_limits.sign_in_per_email = plenty;
    config.rate_limits.sign_in_per_ip = plenty;
    let api = TestApi::start_with(config).await;
    let gql = api.client();
    gql.ok(
        "mutation { signUp(input: { email: \"known@time.kz\", password: \"correct horse battery\", displayName: \"K\" }) { token } }",
        json!({}),
    )
    .await;
    const SIGN_IN: &str =
        "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }";
    let time = |email: &'static str| {
        let gql = gql.clone();
        async move {
            let started = Instant::now();
            let body = gql
                .raw(SIGN_IN, json!({ "e": email, "p": "a wrong password" }))
                .await;
            let took = started.elapsed();
            // The default language (no Accept-Language, no saved locale) is Kazakh.
            assert_eq!(body["errors"][0]["message"], "email немесе құпиясөз қате");
            assert_eq!(
                body["errors"][0]["extensions"]["field"], "password",
                "{body}"
            );
            took
        }
    };
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    // Interleaved, so that a busy machine slows both alike. Other tests share the cores, so a
    // burst of load can skew one round: up to three rounds, and one within 25 % passes. Without
    // the dummy hash an unknown email answers in a few milliseconds and every round fails.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for i in 0..20 {
            if i % 2 == 0 {
                known.push(time("known@time.kz").await);
                unknown.push(time("nobody@time.kz").await);
            } else {
                unknown.push(time("nobody@time.kz").await);
                known.push(time("known@time.kz").await);
            }
        }
        let (k, u) = (median(&mut known), median(&mut unknown));
        let ratio = u.as_secs_f64() / k.as_secs_f64();
        eprintln!("signIn medians: known {k:?}, unknown {u:?}, ratio {ratio:.2}");
        rounds.push(ratio);
        if (0.75..=1.25).contains(&ratio) {
            return;
        }
    }
    panic!("unknown/known median ratios {rounds:?}, none within 25 %");
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_localhost_in_development_and_only_the_list_in_production() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut dev = test_config(&db, &redis);
    dev.app_env = AppEnv::Development;
    dev.cors_allowed_origins = Vec::new();
    let dev = TestApi::start_with(dev).await;
    let mut prod = test_config(&db, &redis);
    prod.app_env = AppEnv::Production;
    prod.cors_allowed_origins = vec!["https://birgemiz.kz".into()];
    let prod = TestApi::start_with(prod).await;
    let http = reqwest::Client::new();
    let preflight = |api: &TestApi, origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, api.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,accept-language,x-request-id",
            )
            .send()
    };
    let allowed = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for (api, origin, ok) in [
        (&dev, "http://localhost:3000", true),
        (&dev, "http://127.0.0.1:5173", true),
        (&dev, "http://localhost.evil.kz", false),
        (&dev, "https://evil.kz", false),
        (&prod, "http://localhost:3000", false),
        (&prod, "https://birgemiz.kz", true),
        (&prod, "https://evil.kz", false),
    ] {
        let r = preflight(api, origin).await.expect("preflight");
        assert_eq!(allowed(&r).as_deref(), ok.then_some(origin), "{origin}");
        if ok {
            let headers = r.headers()["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .to_lowercase();
            for h in [
                "authorization",
                "content-type",
                "accept-language",
                "x-request-id",
            ] {
                assert!(headers.contains(h), "{h} in {headers}");
            }
            assert!(
                r.headers()
                    .get("access-control-allow-credentials")
                    .is_none()
            );
        }
    }
    let r = http
        .post(dev.url("/graphql"))
        .header("origin", "http://localhost:3000")
        .header("x-request-id", "abc-123")
        .json(&json!({ "query": "{ stats { projectCount } }" }))
        .send()
        .await
        .expect("post");
    assert_eq!(allowed(&r).as_deref(), Some("http://localhost:3000"));
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_but_the_voter_learns_a_choice_not_even_from_small_live_counts() {
    const MIN: i32 = 3;
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = test_config(&db, &redis);
    config.live_counts_min_votes = MIN;
    let api = TestApi::start_with(config).await;
    let anon = api.client();
    let admin = anon.with_token(
        &fixtures::user(&db, "admin@votes.kz", Kind::Admin)
            .await
            .token,
    );
    let nominator = anon.with_token(
        &fixtures::user(&db, "n@votes.kz", Kind::Verified)
            .await
            .token,
    );
    let (award, category) = nominating_award(&admin, "Live Award", true).await;
    let a = submit(&nominator, &category, "Nominee A").await;
    let b = submit(&nominator, &category, "Nominee B").await;
    for n in [&a, &b] {
        admin.ok(MODERATE, json!({ "id": n, "d": "APPROVE" })).await;
    }
    open_voting(&admin, &award, 3600).await;
    let ws_url = api.url("/graphql/ws").replacen("http", "ws", 1);
    let mut live = WsSubscription::start(
        &ws_url,
        "subscription($c: ID!) { voteCounts(categoryId: $c) { nominationId voteCount categoryVoteCount } }",
        json!({ "c": category }),
    )
    .await;
    const COUNTS: &str = "query($c: ID!) { node(id: $c) { ... on AwardCategory { voteCount
        nominations { nodes { id voteCount } } } } }";
    const BY_VOTES: &str = "query($c: ID!) { node(id: $c) { ... on AwardCategory {
        nominations(orderBy: MOST_VOTES) { nodes { id } } } } }";
    let mut voters = Vec::new();
    for i in 0..MIN {
        let u = fixtures::user(&db, &format!("voter{i}@votes.kz"), Kind::Verified).await;
        voters.push((u.id, anon.with_token(&u.token)));
    }
    for (i, (_, voter)) in voters.iter().enumerate() {
        voter
            .ok(CAST, json!({ "n": if i == 0 { &a } else { &b } }))
            .await;
        let below = (i as i32) + 1 < MIN;
        for (who, gql) in [
            ("anonymous", &anon),
            ("admin", &admin),
            ("the voter", voter),
        ] {
            let d = gql.ok(COUNTS, json!({ "c": category })).await;
            let counts: Vec<&Value> = std::iter::once(&d["node"]["voteCount"])
                .chain(
                    d["node"]["nominations"]["nodes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| &n["voteCount"]),
                )
                .collect();
            assert_eq!(
                counts.iter().all(|c| c.is_null()),
                below,
                "{who} after {} votes: {d}",
                i + 1
            );
            // Hidden counts hide the order too: MOST_VOTES falls back to NAME with a warning.
            let ordered = gql.raw(BY_VOTES, json!({ "c": category })).await;
            assert_eq!(ordered["errors"], Value::Null, "{ordered}");
            let warned =
                ordered["extensions"]["warnings"][0]["code"] == "ORDER_BY_NAME_WHILE_COUNTS_HIDDEN";
            assert_eq!(warned, below, "MOST_VOTES for {who} after {} votes", i + 1);
        }
        if below {
            assert!(
                live.try_next(Duration::from_millis(500)).await.is_none(),
                "no live count below {MIN}"
            );
        }
    }
    let update = live.next_json().await;
    assert_eq!(
        update["payload"]["data"]["voteCounts"]["categoryVoteCount"], MIN,
        "{update}"
    );

    // A person's votes: theirs only, whoever asks, directly or as a node.
    let (voter_id, voter) = &voters[0];
    let user = encode(NodeType::User, *voter_id).to_string();
    const VOTES: &str =
        "query($u: ID!) { node(id: $u) { ... on User { votes { id nomination { id } } } } }";
    assert_eq!(
        voter.ok(VOTES, json!({ "u": user })).await["node"]["votes"][0]["nomination"]["id"],
        json!(a)
    );
    assert_eq!(
        admin.ok(VOTES, json!({ "u": user })).await["node"]["votes"],
        Value::Null
    );
    let vote_id = voter.ok(VOTES, json!({ "u": user })).await["node"]["votes"][0]["id"].clone();
    for gql in [&anon, &admin, &voters[1].1] {
        assert_eq!(
            gql.ok(NODE, json!({ "id": vote_id })).await["node"],
            Value::Null
        );
    }
    // Results are counts and nominations, published with the results; none before.
    let results = admin
        .ok("query($c: ID!) { node(id: $c) { ... on AwardCategory { results { rank voteCount } } } }", json!({ "c": category }))
        .await;
    assert_eq!(results["node"]["results"], json!([]));
}
