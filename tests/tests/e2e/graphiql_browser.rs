//! GraphiQL in a real headless browser (Debian's `chromium`, or the one `CHROMIUM` names),
//! driven over the DevTools protocol: the page loads from the api alone (no CDN), runs
//! `{ __typename }` and shows the answer. Without a browser the test says so and passes.

use std::time::{Duration, Instant};

use birgemiz_tests::{TestApi, TestDb, TestRedis};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn chromium() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// One DevTools call: its result, skipping the events sent meanwhile.
async fn call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let msg = json!({ "id": id, "method": method, "params": params }).to_string();
    ws.send(Message::text(msg))
        .await
        .expect("send to the browser");
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the browser answers")
            .expect("the browser's connection")
            .expect("a message");
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).expect("JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }
}

/// Evaluates `expression` in the page until it gives a string, for up to 30 s.
async fn wait_for(ws: &mut Ws, next_id: &mut u64, expression: &str) -> String {
    let started = Instant::now();
    loop {
        *next_id += 1;
        let r = call(
            ws,
            *next_id,
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        )
        .await;
        if let Some(s) = r["result"]["value"].as_str() {
            return s.to_owned();
        }
        if started.elapsed() > Duration::from_secs(30) {
            *next_id += 1;
            let page = call(ws, *next_id, "Runtime.evaluate", json!({ "expression": "[...document.querySelectorAll('.CodeMirror')].map(c => c.parentElement.className + ': ' + c.CodeMirror.getValue()).join(' | ')", "returnByValue": true })).await;
            panic!(
                "timed out waiting for: {expression}\nthe page: {}",
                page["result"]["value"]
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_runs_a_query_offline_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED graphiql_runs_a_query_offline_in_a_headless_browser: no chromium on PATH and CHROMIUM is not set (apt-get install chromium)"
        );
        return;
    };
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let api = TestApi::start(&db, &redis).await;
    let profile = std::env::temp_dir().join(format!(
        "birgemiz-chromium-{}",
        birgemiz_tests::unique_suffix()
    ));
    std::fs::create_dir_all(&profile).unwrap();
    // No proxy and no network beyond loopback: a CDN request could not succeed.
    let mut child = tokio::process::Command::new(&browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-proxy-server",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromium");
    // The browser writes its DevTools port once it listens.
    let port_file = profile.join("DevToolsActivePort");
    let started = Instant::now();
    let port = loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
            .filter(|p| !p.is_empty())
        {
            break port;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromium did not open its DevTools port"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let targets: Value = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .expect("a page target");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(page["webSocketDebuggerUrl"].as_str().unwrap())
            .await
            .expect("DevTools connection");
    let mut id = 1;
    call(
        &mut ws,
        id,
        "Page.navigate",
        json!({ "url": api.url("/graphql") }),
    )
    .await;
    let editor = ".graphiql-query-editor .CodeMirror";
    wait_for(
        &mut ws,
        &mut id,
        &format!("document.querySelector('{editor}') && document.querySelector('.graphiql-execute-button') ? 'ready' : null"),
    )
    .await;
    id += 1;
    call(
        &mut ws,
        id,
        "Runtime.evaluate",
        json!({ "expression": format!("document.querySelector('{editor}').CodeMirror.setValue('{{ __typename }}'); document.querySelector('.graphiql-execute-button').click(); 'ok'") }),
    )
    .await;
    let shown = wait_for(
        &mut ws,
        &mut id,
        "(() => { const r = document.querySelector('.result-window .CodeMirror'); const v = r && r.CodeMirror.getValue(); return v && v.includes('__typename') ? v : null; })()",
    )
    .await;
    let shown: Value = serde_json::from_str(&shown).expect("the result pane holds JSON");
    assert_eq!(shown, json!({ "data": { "__typename": "Query" } }));
    // Everything the page loaded came from the api.
    let loaded = wait_for(
        &mut ws,
        &mut id,
        "JSON.stringify(performance.getEntriesByType('resource').map(e => e.name))",
    )
    .await;
    let loaded: Vec<String> = serde_json::from_str(&loaded).unwrap();
    assert!(loaded.len() >= 4, "{loaded:?}");
    assert!(
        loaded.iter().all(|u| u.starts_with(&api.base)),
        "{loaded:?}"
    );
    child.kill().await.ok();
    std::fs::remove_dir_all(&profile).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_is_off_in_production() {
    let (db, redis) = (TestDb::new().await, TestRedis::new());
    let mut config = birgemiz_tests::api::test_config(&db, &redis);
    config.app_env = birgemiz_schema::config::AppEnv::Production;
    let api = TestApi::start_with(config).await;
    let http = reqwest::Client::new();
    let page = http
        .get(api.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    let asset = http
        .get(api.url("/graphql/assets/graphiql-3.8.3-react-18.3.1/graphiql.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 404);
}
