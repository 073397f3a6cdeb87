//! `load`: a small closed-loop HTTP load generator for the benchmarks in bench/.
//!
//! Each of `--concurrency` tasks sends POSTs back to back for `--duration` seconds and records
//! every latency; the result is one JSON line (requests/s, p50, p99, errors). A request counts as
//! an error when the status is not 200 or the body has a GraphQL `errors` member.
//!
//!   load --url URL --body JSON [--concurrency 16] [--duration 10]
//!        [--tokens FILE]      one bearer token per line; task i uses tokens i, i+c, i+2c, …
//!        [--variables FILE]   one JSON object per line, spread over the requests

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    url: String,
    body: serde_json::Value,
    concurrency: usize,
    duration: Duration,
    tokens: Vec<String>,
    variables: Vec<serde_json::Value>,
}

fn lines(path: &str) -> Result<Vec<String>, String> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e}"))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut body, mut concurrency, mut duration) = (None, None, 16, 10.0);
    let (mut tokens, mut variables) = (Vec::new(), Vec::new());
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--body" => {
                body = Some(serde_json::from_str(&value).map_err(|e| format!("--body: {e}"))?)
            }
            "--concurrency" => {
                concurrency = value.parse().map_err(|_| "--concurrency: a number")?
            }
            "--duration" => duration = value.parse().map_err(|_| "--duration: seconds")?,
            "--tokens" => tokens = lines(&value)?,
            "--variables" => {
                variables = lines(&value)?
                    .iter()
                    .map(|l| serde_json::from_str(l).map_err(|e| format!("--variables: {e}")))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        body: body.ok_or("--body is required")?,
        concurrency: concurrency.max(1),
        duration: Duration::from_secs_f64(duration),
        tokens,
        variables,
    })
}

/// One task's loop: its own slice of the tokens, so no two tasks act as the same person at once.
async fn run_task(
    task: usize,
    args: Arc<Args>,
    http: reqwest::Client,
    deadline: Instant,
    errors: Arc<AtomicU64>,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(4096);
    let mut n = 0usize;
    while Instant::now() < deadline {
        let mut body = args.body.clone();
        if !args.variables.is_empty() {
            let pick = (n * 7919 + task * 104_729) % args.variables.len();
            body["variables"] = args.variables[pick].clone();
        }
        let mut req = http.post(&args.url).json(&body);
        if !args.tokens.is_empty() {
            let per_task = args.tokens.len().div_ceil(args.concurrency).max(1);
            let idx = (task + (n % per_task) * args.concurrency) % args.tokens.len();
            req = req.bearer_auth(&args.tokens[idx]);
        }
        let t = Instant::now();
        let ok = match req.send().await {
            Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                Ok(bytes) => !bytes.windows(8).any(|w| w == b"\"errors\""),
                Err(_) => false,
            },
            _ => false,
        };
        latencies.push(t.elapsed());
        if !ok && errors.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("load: first error (task {task}, request {n})");
        }
        n += 1;
    }
    latencies
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("http client");
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|task| {
            tokio::spawn(run_task(
                task,
                args.clone(),
                http.clone(),
                deadline,
                errors.clone(),
            ))
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let ms = |p: f64| {
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        all.get(i)
            .map(|d| (d.as_secs_f64() * 100_000.0).round() / 100.0)
            .unwrap_or(0.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "concurrency": args.concurrency,
            "requests": all.len(),
            "errors": errors.load(Ordering::Relaxed),
            "rps": (all.len() as f64 / elapsed).round(),
            "p50_ms": ms(0.50),
            "p99_ms": ms(0.99),
        })
    );
}
