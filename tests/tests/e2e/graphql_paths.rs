//! One behaviour whichever execution path runs: the fast paths (GRAPHQL_FAST_PATHS=on) and
//! async-graphql's own executor, validation and serializer (off) answer every document with the
//! same bytes, every time.

/// The front page as `bench/run.sh` asks for it.
pub const BENCH_FRONT_PAGE: &str = r#"query FrontPage { stats { organizationCount projectCount volunteerCount applicationCount }
  organizations(first: 20, orderBy: NAME) { nodes { id slug name kind city verified
    projects(first: 5) { nodes { id slug title direction startsAt volunteerCount } } } }
  award(slug: "bench-award") { title phase categories { id title voteCount
    nominations(first: 10, orderBy: MOST_VOTES) { nodes { id nomineeName voteCount } } } } }"#;
