//! Language and place (issue 18, items 10–13): names sorted by the request's language, places
//! localized and filterable by code, typo-tolerant search, the saved locale and localized errors.

use birgemiz_tests::fixtures::{self, Kind};
use birgemiz_tests::{Gql, TestApi, TestDb, TestRedis};
use serde_json::{Value, json};

use crate::public_support::CREATE_ORG;

const ORGS_BY_NAME: &str = "query($after: String, $first: Int) { organizations(orderBy: NAME, first: $first, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }";

async fn names_by_name(gql: &Gql, first: i64) -> Vec<String> {
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = gql
            .ok(ORGS_BY_NAME, json!({ "first": first, "after": after }))
            .await["organizations"]
            .clone();
        for e in page["edges"].as_array().unwrap() {
            names.push(e["node"]["name"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return names;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn names_sort_by_the_request_language_and_its_collation() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);
    // Byte order would put Ә after В in Kazakh, Ё before А in Russian and capitals first in
    // English; each language's own rules put them where a reader looks for them.
    for name in [
        json!({ "kk": "Әлем", "ru": "Ёлка", "en": "cherry" }),
        json!({ "kk": "Алма", "ru": "Жук", "en": "Banana" }),
        json!({ "kk": "Бала", "ru": "Арбуз", "en": "apple" }),
        json!({ "ru": "Вода", "en": "Water" }),
    ] {
        gql.ok(
            CREATE_ORG,
            json!({ "i": { "name": name, "kind": "NGO", "country": "KZ" } }),
        )
        .await;
    }
    let expected = [
        ("kk", ["Алма", "Әлем", "Бала", "Вода"]),
        ("ru", ["Арбуз", "Вода", "Ёлка", "Жук"]),
        ("en", ["apple", "Banana", "cherry", "Water"]),
    ];
    for (lang, want) in expected {
        let client = api.client().with_locale(lang);
        assert_eq!(names_by_name(&client, 10).await, want, "{lang}, one page");
        assert_eq!(
            names_by_name(&client, 1).await,
            want,
            "{lang}, page by page through cursors"
        );
    }
    // A cursor belongs to its language's order.
    let ru = api
        .client()
        .with_locale("ru")
        .ok(ORGS_BY_NAME, json!({ "first": 1 }))
        .await;
    let cursor = ru["organizations"]["pageInfo"]["endCursor"].clone();
    let body = api
        .client()
        .with_locale("en")
        .raw(ORGS_BY_NAME, json!({ "first": 1, "after": cursor }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

const PLACE_FIELDS: &str = "region city regionCode cityCode";

async fn in_lang(api: &TestApi, lang: &str, query: &str, vars: Value) -> Value {
    api.client().with_locale(lang).ok(query, vars).await
}

#[tokio::test(flavor = "multi_thread")]
async fn places_are_localized_filterable_by_code_and_searchable() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);

    // As people wrote places before there was a list: English free text.
    let org = gql
        .ok(
            &format!("mutation($i: CreateOrganizationInput!) {{ createOrganization(input: $i) {{ id {PLACE_FIELDS} }} }}"),
            json!({ "i": { "name": { "en": "Tobol Volunteers" }, "kind": "NGO", "country": "KZ", "region": "Kostanay Region", "city": "Kostanay" } }),
        )
        .await["createOrganization"]
        .clone();
    assert_eq!(org["regionCode"], "KZ-39");
    assert_eq!(org["cityCode"], "KZ-39-KOSTANAY");
    let create = format!(
        "mutation($i: CreateProjectInput!) {{ createProject(input: $i) {{ id {PLACE_FIELDS} }} }}"
    );
    let publish = "mutation($id: ID!) { publishProject(id: $id) { status } }";
    let astana = gql
        .ok(
            &create,
            json!({ "i": { "organizationId": org["id"], "title": { "en": "Park clean-up" }, "direction": "ENVIRONMENT", "cityCode": "kz-71" } }),
        )
        .await["createProject"]
        .clone();
    assert_eq!(
        (&astana["cityCode"], &astana["regionCode"]),
        (&json!("KZ-71"), &json!("KZ-71")),
        "a city of republican significance is its own region"
    );
    let novosibirsk = gql
        .ok(
            &create,
            json!({ "i": { "organizationId": org["id"], "title": { "en": "Winter aid" }, "direction": "SOCIAL", "country": "RU", "region": "Новосибирская обл.", "city": "Бердск" } }),
        )
        .await["createProject"]
        .clone();
    assert_eq!(novosibirsk["regionCode"], "RU-NVS");
    assert_eq!(
        (&novosibirsk["city"], &novosibirsk["cityCode"]),
        (&json!("Бердск"), &Value::Null),
        "an unlisted city stays as written"
    );
    for p in [&astana, &novosibirsk] {
        gql.ok(publish, json!({ "id": p["id"] })).await;
    }

    // Read in each language.
    let org_q = format!("query {{ organizations {{ nodes {{ {PLACE_FIELDS} }} }} }}");
    for (lang, region, city) in [
        ("kk", "Қостанай облысы", "Қостанай"),
        ("ru", "Костанайская область", "Костанай"),
        ("en", "Kostanay Region", "Kostanay"),
    ] {
        let o = in_lang(&api, lang, &org_q, json!({})).await["organizations"]["nodes"][0].clone();
        assert_eq!(
            (o["region"].as_str(), o["city"].as_str()),
            (Some(region), Some(city)),
            "{lang}"
        );
    }
    let proj_q = "query($f: ProjectFilter) { projects(filter: $f) { nodes { titleI18n { en } region city regionCode cityCode } } }";
    let titles = |v: &Value| -> Vec<String> {
        v["projects"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["titleI18n"]["en"].as_str().unwrap().to_owned())
            .collect()
    };
    let ru = in_lang(&api, "ru", proj_q, json!({ "f": { "cityCode": "KZ-71" } })).await;
    assert_eq!(ru["projects"]["nodes"][0]["city"], "Астана");
    assert_eq!(titles(&ru), ["Park clean-up"]);
    let kk = in_lang(
        &api,
        "kk",
        proj_q,
        json!({ "f": { "regionCode": "RU-NVS" } }),
    )
    .await;
    assert_eq!(kk["projects"]["nodes"][0]["region"], "Новосібір облысы");
    assert_eq!(titles(&kk), ["Winter aid"]);

    // Filters by name in any language, or by the free text.
    for (filter, want) in [
        (json!({ "city": "Астана" }), vec!["Park clean-up"]),
        (json!({ "city": "astana" }), vec!["Park clean-up"]),
        (
            json!({ "region": "Новосибирская область" }),
            vec!["Winter aid"],
        ),
        (
            json!({ "region": "Novosibirsk Oblast", "country": "RU" }),
            vec!["Winter aid"],
        ),
        (json!({ "city": "Бердск" }), vec!["Winter aid"]),
        (json!({ "city": "Костанай" }), vec![]),
    ] {
        let got = in_lang(&api, "en", proj_q, json!({ "f": filter })).await;
        assert_eq!(titles(&got), want, "{filter}");
    }
    let orgs_in = |f: Value| {
        let api = &api;
        async move {
            api.client()
                .ok(
                    "query($f: OrganizationFilter) { organizations(filter: $f) { totalCount } }",
                    json!({ "f": f }),
                )
                .await["organizations"]["totalCount"]
                .clone()
        }
    };
    assert_eq!(orgs_in(json!({ "city": "Қостанай" })).await, 1);
    assert_eq!(orgs_in(json!({ "regionCode": "KZ-39" })).await, 1);
    assert_eq!(orgs_in(json!({ "cityCode": "KZ-71" })).await, 0);

    // Search finds places in every language, Kazakh letters typed or not.
    let search = "query($q: String!) { search(query: $q) { nodes { __typename ... on Organization { slug } ... on Project { titleI18n { en } } } } }";
    for (q, typename) in [
        ("Костанай", "Organization"),
        ("Қостанай", "Organization"),
        ("Kostanay", "Organization"),
        ("Астана", "Project"),
        ("Новосибирск", "Project"),
    ] {
        let hits = api.client().ok(search, json!({ "q": q })).await["search"]["nodes"].clone();
        let hits = hits.as_array().unwrap();
        assert!(
            hits.iter().any(|h| h["__typename"] == typename),
            "{q}: {hits:?}"
        );
    }

    // Codes are checked; an update by code or by null replaces the place.
    for (i, field) in [
        (json!({ "regionCode": "KZ-99" }), "regionCode"),
        (json!({ "regionCode": "RU-NVS" }), "regionCode"),
        (json!({ "cityCode": "KZ-39" }), "cityCode"),
    ] {
        let mut input =
            json!({ "organizationId": org["id"], "title": { "en": "x" }, "direction": "SOCIAL" });
        for (k, v) in i.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = gql.raw(&create, json!({ "i": input })).await;
        assert_eq!(
            (
                body["errors"][0]["extensions"]["code"].as_str(),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            (Some("BAD_USER_INPUT"), Some(field)),
            "{body}"
        );
    }
    let update = format!(
        "mutation($id: ID!, $i: UpdateProjectInput!) {{ updateProject(id: $id, input: $i) {{ {PLACE_FIELDS} }} }}"
    );
    let moved = gql
        .with_locale("ru")
        .ok(
            &update,
            json!({ "id": astana["id"], "i": { "cityCode": "KZ-79", "regionCode": null } }),
        )
        .await["updateProject"]
        .clone();
    assert_eq!(
        (&moved["city"], &moved["cityCode"], &moved["region"]),
        (&json!("Шымкент"), &json!("KZ-79"), &Value::Null)
    );

    // The list itself, for pickers.
    let places = api
        .client()
        .with_locale("ru")
        .ok(
            "{ places(country: \"KZ\") { code name isRegion isCity regionCode } }",
            json!({}),
        )
        .await["places"]
        .clone();
    let places = places.as_array().unwrap();
    assert_eq!(places.iter().filter(|p| p["isRegion"] == true).count(), 20);
    assert!(places.iter().any(|p| p["code"] == "KZ-39-KOSTANAY"
        && p["name"] == "Костанай"
        && p["regionCode"] == "KZ-39"));
    let ru = api
        .client()
        .ok("{ places(country: \"RU\") { code } }", json!({}))
        .await;
    assert_eq!(
        ru["places"].as_array().unwrap().len(),
        83,
        "Russia's federal subjects (ISO 3166-2:RU)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_forgives_common_misspellings_in_kazakh_and_russian() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let owner = fixtures::user(&db, "owner@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&owner.token);
    let org = gql
        .ok(
            CREATE_ORG,
            json!({ "i": { "name": { "en": "City Hands" }, "kind": "NGO", "country": "KZ" } }),
        )
        .await["createOrganization"]
        .clone();
    let projects = [
        (
            "camp",
            json!({ "kk": "Жазғы волонтерлер лагері", "ru": "Летний лагерь волонтеров", "en": "Summer volunteer camp" }),
        ),
        (
            "elders",
            json!({ "kk": "Қарттарға көмек", "ru": "Помощь пожилым людям" }),
        ),
        (
            "eco",
            json!({ "kk": "Экологиялық акция", "ru": "Экологическая акция" }),
        ),
        (
            "fair",
            json!({ "kk": "Қайырымдылық жәрмеңкесі", "ru": "Благотворительная ярмарка" }),
        ),
    ];
    for (slug, title) in &projects {
        let p = gql
            .ok(
                "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
                json!({ "i": { "organizationId": org["id"], "title": title, "direction": "SOCIAL", "slug": slug } }),
            )
            .await["createProject"]
            .clone();
        gql.ok(
            "mutation($id: ID!) { publishProject(id: $id) { status } }",
            json!({ "id": p["id"] }),
        )
        .await;
    }
    let search = "query($q: String!) { search(query: $q) { nodes { ... on Project { slug } } } }";
    let found = |q: &'static str| {
        let api = &api;
        async move {
            let nodes = api.client().ok(search, json!({ "q": q })).await["search"]["nodes"].clone();
            nodes
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["slug"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    // Slips people make: a vowel heard wrong, a letter dropped or doubled, Kazakh letters typed
    // on a Russian keyboard.
    for (misspelt, slug) in [
        ("волантер", "camp"),
        ("валонтер", "camp"),
        ("валантерлер", "camp"),
        ("жазгы лагери", "camp"),
        ("кумек", "elders"),
        ("помош пожылым", "elders"),
        ("экалогическая", "eco"),
        ("экалогиялык", "eco"),
        ("каиырымдылык", "fair"),
        ("благотворительня ярмака", "fair"),
        ("volunter", "camp"),
    ] {
        assert_eq!(found(misspelt).await, [slug], "{misspelt}");
    }
    // Words that are right stay exact, and nonsense finds nothing.
    assert_eq!(found("акция").await, ["eco"]);
    assert!(found("зоопарк").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_locale_decides_without_accept_language_and_errors_are_localized() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let user = fixtures::user(&db, "reader@example.kz", Kind::Verified).await;
    let gql = api.client().with_token(&user.token);
    gql.ok(
        CREATE_ORG,
        json!({ "i": { "name": { "kk": "Жастар", "ru": "Молодёжь", "en": "Youth" }, "kind": "NGO", "country": "KZ" } }),
    )
    .await;
    let name = |g: Gql| async move {
        g.ok("{ organizations { nodes { name } } }", json!({}))
            .await["organizations"]["nodes"][0]["name"]
            .clone()
    };
    assert_eq!(name(gql.clone()).await, "Жастар", "nothing saved: kk");
    gql.ok(
        "mutation { updateProfile(locale: RU) { locale } }",
        json!({}),
    )
    .await;
    assert_eq!(
        name(gql.clone()).await,
        "Молодёжь",
        "the saved locale without a header"
    );
    assert_eq!(
        name(gql.with_locale("de-DE")).await,
        "Молодёжь",
        "the saved locale when the header names no supported language"
    );
    assert_eq!(
        name(gql.with_locale("en-GB,en;q=0.9")).await,
        "Youth",
        "a supported Accept-Language wins"
    );
    assert_eq!(name(api.client()).await, "Жастар", "anonymous: kk");

    // Errors: the same code and field in every language, the message in the request's.
    let long =
        json!({ "i": { "name": { "en": "x".repeat(201) }, "kind": "NGO", "country": "KZ" } });
    for (client, message) in [
        (gql.with_locale("kk"), "200 таңбадан аспауы керек"),
        (gql.clone(), "должно быть не длиннее 200 символов"),
        (gql.with_locale("en"), "must be at most 200 characters"),
    ] {
        let body = client.raw(CREATE_ORG, long.clone()).await;
        let e = &body["errors"][0];
        assert_eq!(
            (
                &e["extensions"]["code"],
                &e["extensions"]["field"],
                &e["message"]
            ),
            (&json!("BAD_USER_INPUT"), &json!("name"), &json!(message)),
            "{body}"
        );
    }
    let anonymous = json!({ "i": { "name": { "en": "x" }, "kind": "NGO", "country": "KZ" } });
    for (lang, message) in [
        ("kk", "алдымен жүйеге кіріңіз"),
        ("ru", "сначала войдите"),
        ("en", "sign in first"),
    ] {
        let body = api
            .client()
            .with_locale(lang)
            .raw(CREATE_ORG, anonymous.clone())
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert_eq!(body["errors"][0]["message"], message, "{lang}");
    }
    let body = gql
        .raw(
            "mutation($id: ID!) { publishProject(id: $id) { status } }",
            json!({ "id": "UHJvamVjdDo5OTk5OQ" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "Проект не найден");
}
