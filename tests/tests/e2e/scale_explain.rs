//! No statement of the front page, the catalogue, the dashboard or a search reads rows in
//! proportion to a table's size (issue 20): every statement they send, as recorded from the api's own
//! connections, is EXPLAINed with its binds against a database holding a reduced benchmark
//! volume (bench/seed.sql), and none may scan a table of more than 10,000 rows sequentially,
//! sort more than a page's worth of rows, or read more than `READ` rows from one scan.
//!
//! The plans are run (`ANALYZE`, in a transaction rolled back) so that the rows counted are the
//! rows read: the planner's estimates of a filter such as `lower(region) = …` are guesses, and a
//! guess of 5 rows once hid a scan of every project of a direction.

use std::collections::HashMap;
use std::process::Command;

use birgemiz_tests::{TestApi, TestDb, TestRedis, repo_root, sql_count};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

/// The seed's volume: 100,000 applications, 20,000 users and votes; the projects and posts are
/// topped up to over 10,000 below, so that their lists are checked too.
const SEED_SCALE: &str = "0.1";
const LARGE: f64 = 10_000.0;
/// The largest page a list serves.
const PAGE: f64 = 100.0;
/// The most rows one scan of one statement may read (per loop): ten pages. A list served by an
/// index reads its page; a filter the index does not hold reads more, in proportion to what it
/// filters out, and so in proportion to the table.
const READ: f64 = 1_000.0;

const FRONT_PAGE: &str = r#"{
  stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: 20, orderBy: NAME) { totalCount nodes { id slug name kind city verified
    projects(first: 5) { totalCount nodes { id slug title direction startsAt volunteerCount } } } }
  award(slug: "bench-award") { title phase categories { id title voteCount
    nominations(first: 10, orderBy: MOST_VOTES) { totalCount nodes { id nomineeName voteCount } } } }
  posts(first: 10) { nodes { title excerpt organization { name } } }
}"#;

/// In its default order, newest first (the other orders of a filtered catalogue sort what the
/// filter selects: see docs/scale.md).
const CATALOGUE: &str = r#"{
  projects(first: 20, filter: { direction: SOCIAL, region: "Region 3" }) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id slug title direction region startsAt volunteerCount organization { slug name } } }
  byDirection: projects(first: 20, filter: { direction: EDUCATION }) {
    totalCount nodes { id title } }
}"#;

const DASHBOARD: &str = r#"{
  viewer { displayName
    applications(first: 10) { totalCount nodes { status createdAt project { title organization { name } } } }
    votes { createdAt nomination { nomineeName } category { title } }
    nominations(first: 10) { totalCount nodes { nomineeName status } } }
}"#;

/// A word in every project (Kazakh) and one in every post (Russian): without a bounded candidate
/// set, a search ranks every match.
const SEARCH: &str = r#"query($q: String!) {
  search(query: $q, first: 20) { totalCount pageInfo { hasNextPage endCursor }
    nodes { __typename ... on Project { slug title } ... on Organization { slug name } ... on Post { slug title } } }
}"#;

fn psql(url: &str, args: &[&str]) {
    let out = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .output()
        .expect("run psql (PostgreSQL's client must be installed)");
    assert!(
        out.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// diesel's printed binds (`[1, "a", Some([2, 3]), None]`) as SQL literals; `bytes` reads a
/// list of numbers that all fit a byte as `bytea` (diesel prints both alike).
fn literals(binds: &str, bytes: bool) -> Vec<String> {
    let chars: Vec<char> = binds.trim().chars().collect();
    let mut pos = 0;
    match value(&chars, &mut pos) {
        Literal::List(items) => items.into_iter().map(|l| l.sql(bytes)).collect(),
        other => panic!("binds are not a list: {binds} ({other:?})"),
    }
}

#[derive(Debug)]
enum Literal {
    Raw(String),
    Text(String),
    List(Vec<Literal>),
    Null,
}

impl Literal {
    fn sql(self, bytes: bool) -> String {
        match self {
            Literal::List(items)
                if bytes
                    && !items.is_empty()
                    && items
                        .iter()
                        .all(|i| matches!(i, Literal::Raw(r) if r.parse::<u8>().is_ok())) =>
            {
                let hex: String = items
                    .iter()
                    .map(|i| match i {
                        Literal::Raw(r) => format!("{:02x}", r.parse::<u8>().unwrap_or(0)),
                        _ => String::new(),
                    })
                    .collect();
                format!("'\\x{hex}'::bytea")
            }
            Literal::Raw(r) if r.parse::<f64>().is_ok() || r == "true" || r == "false" => r,
            // A timestamp or anything else printed bare: PostgreSQL reads the text by context.
            Literal::Raw(r) | Literal::Text(r) => format!("'{}'", r.replace('\'', "''")),
            Literal::List(items) if items.is_empty() => "'{}'".into(),
            Literal::List(items) => format!(
                "ARRAY[{}]",
                items
                    .into_iter()
                    .map(|i| i.sql(bytes))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Literal::Null => "NULL".into(),
        }
    }
}

fn value(c: &[char], pos: &mut usize) -> Literal {
    while c.get(*pos) == Some(&' ') {
        *pos += 1;
    }
    match c.get(*pos) {
        Some('[') => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                while c.get(*pos) == Some(&' ') {
                    *pos += 1;
                }
                match c.get(*pos) {
                    Some(']') => {
                        *pos += 1;
                        return Literal::List(items);
                    }
                    Some(',') => *pos += 1,
                    Some(_) => items.push(value(c, pos)),
                    None => panic!("unterminated list of binds"),
                }
            }
        }
        Some('"') => {
            *pos += 1;
            let mut s = String::new();
            while let Some(&ch) = c.get(*pos) {
                *pos += 1;
                match ch {
                    '"' => return Literal::Text(s),
                    '\\' => {
                        let e = c[*pos];
                        *pos += 1;
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                    }
                    other => s.push(other),
                }
            }
            panic!("unterminated string among the binds")
        }
        _ => {
            let start = *pos;
            let mut depth = 0;
            while let Some(&ch) = c.get(*pos) {
                match ch {
                    '(' => depth += 1,
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    ',' | ']' if depth == 0 => break,
                    _ => {}
                }
                *pos += 1;
            }
            let token: String = c[start..*pos].iter().collect();
            let token = token.trim();
            if token == "None" {
                Literal::Null
            } else if let Some(inner) = token
                .strip_prefix("Some(")
                .and_then(|t| t.strip_suffix(')'))
            {
                let inner: Vec<char> = inner.chars().collect();
                value(&inner, &mut 0)
            } else {
                Literal::Raw(token.to_owned())
            }
        }
    }
}

/// The statement with its binds written in: what PostgreSQL plans for these values.
fn with_binds(printed: &str, bytes: bool) -> Option<String> {
    let (sql, binds) = printed.rsplit_once(" -- binds: ")?;
    let mut sql = sql.to_owned();
    for (i, lit) in literals(binds, bytes).into_iter().enumerate().rev() {
        let placeholder = format!("${}", i + 1);
        let mut out = String::new();
        let mut rest = sql.as_str();
        while let Some(at) = rest.find(&placeholder) {
            let after = &rest[at + placeholder.len()..];
            out.push_str(&rest[..at]);
            if after.starts_with(|c: char| c.is_ascii_digit()) {
                out.push_str(&placeholder);
            } else {
                out.push_str(&format!("({lit})"));
            }
            rest = after;
        }
        out.push_str(rest);
        sql = out;
    }
    Some(sql)
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct Rel {
    #[diesel(sql_type = Text)]
    relname: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// What is wrong with a plan node and its children (actual rows are per loop).
fn problems(node: &Value, sizes: &HashMap<String, i64>, out: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or("");
    let num = |k: &str| node[k].as_f64().unwrap_or(0.0);
    let rel = node["Relation Name"].as_str().unwrap_or("");
    if kind == "Seq Scan" {
        let size = sizes.get(rel).copied().unwrap_or(0);
        if size as f64 > LARGE {
            out.push(format!("sequential scan of {rel} ({size} rows)"));
        }
    }
    if kind.ends_with("Sort") && num("Actual Rows") > PAGE {
        out.push(format!(
            "{kind} of {} rows by {}",
            num("Actual Rows"),
            node["Sort Key"]
        ));
    }
    let read =
        num("Actual Rows") + num("Rows Removed by Filter") + num("Rows Removed by Index Recheck");
    if kind.contains("Scan") && read > READ {
        out.push(format!("{kind} of {rel} reads {read} rows"));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        problems(child, sizes, out);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hot_paths_read_no_table_in_proportion_to_its_size() {
    sql_count::install();
    let started = std::time::Instant::now();
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let seed = repo_root().join("bench/seed.sql");
    psql(
        &db.url,
        &[
            "-v",
            &format!("scale={SEED_SCALE}"),
            "-f",
            seed.to_str().unwrap(),
        ],
    );
    // More projects and posts than the seed's scale gives (the big lists of the catalogue and
    // the news), a session for a voter who applied, and nominations they submitted; loaded as
    // the seed is, with triggers off and the counters set afterwards.
    psql(
        &db.url,
        &["-c", "
        BEGIN;
        SET LOCAL session_replication_role = replica;
        INSERT INTO projects (slug, organization_id, title, direction, status, country, region, starts_at, created_at, published_at)
        SELECT 'extra-project-' || g, o.id, jsonb_build_object('kk', 'Жоба ' || g, 'ru', 'Проект ' || g),
               (ARRAY['SOCIAL','EVENTS','ANIMALS','ETHNO','EMERGENCY','MEDICAL','CULTURE','MEDIA','ONLINE','ENVIRONMENT','EDUCATION','SPORTS','SILVER'])[1 + g % 13],
               CASE WHEN g % 10 = 0 THEN 'DRAFT' ELSE 'PUBLISHED' END, o.country, 'Region ' || (g % 17),
               now() + (g % 90 || ' days')::interval, now() - (g || ' seconds')::interval,
               CASE WHEN g % 10 <> 0 THEN now() END
        FROM generate_series(1, 15000) g JOIN organizations o ON o.slug = 'bench-org-' || (1 + g % 20);
        INSERT INTO posts (slug, organization_id, title, body, created_at, published_at)
        SELECT 'extra-post-' || g, (SELECT min(id) FROM organizations), jsonb_build_object('ru', 'Новость ' || g),
               jsonb_build_object('ru', 'Текст'), now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval
        FROM generate_series(1, 12000) g;
        UPDATE nominations SET submitted_by = (SELECT min(id) FROM users) WHERE id % 20 = 0;
        INSERT INTO sessions (user_id, token_hash, expires_at)
        SELECT min(id), sha256(convert_to('explain-token', 'UTF8')), now() + interval '1 day' FROM users;
        UPDATE organizations o SET published_project_count =
            (SELECT count(*) FROM projects p WHERE p.organization_id = o.id AND p.status = 'PUBLISHED');
        SELECT platform_recount();
        COMMIT;
        ANALYZE;"],
    );
    eprintln!("explain test: data loaded after {:?}", started.elapsed());
    let api = TestApi::start(&db, &redis).await;
    let gql = api.client().with_token("explain-token");
    // Each page twice: the second run is what a warm api sends.
    let pages: Vec<(&str, Value)> = vec![
        (FRONT_PAGE, json!({})),
        (DASHBOARD, json!({})),
        (CATALOGUE, json!({})),
        (SEARCH, json!({ "q": "жоба" })),
        (SEARCH, json!({ "q": "новость" })),
    ];
    for (query, vars) in &pages {
        gql.ok(query, vars.clone()).await;
    }
    sql_count::record(&db.url);
    let mut answers = Vec::new();
    for (query, vars) in &pages {
        answers.push(gql.ok(query, vars.clone()).await);
    }
    let statements = sql_count::take_recorded(&db.url);

    // The pages answered with the seed's rows: a check that saw nothing would pass anything.
    assert!(answers[0]["stats"]["applicationCount"].as_i64().unwrap() > 50_000);
    assert!(
        answers[1]["viewer"]["applications"]["totalCount"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert!(!answers[1]["viewer"]["votes"].as_array().unwrap().is_empty());
    assert!(
        answers[1]["viewer"]["nominations"]["totalCount"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert!(answers[2]["projects"]["totalCount"].as_i64().unwrap() > 20);
    for (answer, typename) in [(&answers[3], "Project"), (&answers[4], "Post")] {
        let nodes = answer["search"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 20, "{answer}");
        assert!(
            nodes.iter().all(|n| n["__typename"] == typename),
            "{answer}"
        );
        assert!(answer["search"]["totalCount"].as_i64().unwrap() > 20);
    }

    let mut conn = db.conn().await;
    // As the api's connections are set up (search's similarity threshold).
    conn.batch_execute(&birgemiz_schema::search::session_setup())
        .await
        .unwrap();
    let sizes: HashMap<String, i64> = diesel::sql_query(
        "SELECT relname::text, reltuples::int8 AS rows FROM pg_class WHERE relkind = 'r'",
    )
    .load::<Rel>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.relname, r.rows))
    .collect();
    let mut seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    let mut explained = 0;
    for printed in statements {
        let Some(sql) = with_binds(&printed, false) else {
            continue;
        };
        let head = sql.trim_start().to_ascii_uppercase();
        if !["SELECT", "WITH", "INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|k| head.starts_with(k))
            || !seen.insert(sql.clone())
        {
            continue;
        }
        let explain =
            |sql: String| diesel::sql_query(format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}"));
        conn.batch_execute("BEGIN").await.unwrap();
        let plan: Plan = match explain(sql.clone()).get_result(&mut conn).await {
            Ok(plan) => plan,
            // A list of bytes was a `bytea` (a token's hash).
            Err(e) if e.to_string().contains("bytea") => {
                conn.batch_execute("ROLLBACK; BEGIN").await.unwrap();
                let sql = with_binds(&printed, true).unwrap_or_default();
                explain(sql.clone())
                    .get_result(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"))
            }
            Err(e) => panic!("EXPLAIN {sql}: {e}"),
        };
        conn.batch_execute("ROLLBACK").await.unwrap();
        explained += 1;
        let plan: Value = serde_json::from_str(&plan.plan).unwrap();
        let mut found = Vec::new();
        problems(&plan[0]["Plan"], &sizes, &mut found);
        if !found.is_empty() {
            failures.push(format!("{}\n  {sql}", found.join("; ")));
        }
    }
    assert!(explained >= 10, "only {explained} statements recorded");
    assert!(
        failures.is_empty(),
        "statements reading in proportion to a table's size:\n{}",
        failures.join("\n")
    );
}
