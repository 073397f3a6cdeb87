//! Prometheus metrics for the API: requests by operation, latency histograms, errors by code,
//! pool use. Hand-rolled text exposition: a few maps behind one mutex are all this needs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Operation names are client-chosen: past this many distinct ones, new names count as "other".
const MAX_OPERATIONS: usize = 200;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    errors: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one GraphQL request; `codes` are the `extensions.code` of its errors.
    pub fn record(&self, operation: Option<&str>, status: u16, elapsed: Duration, codes: &[&str]) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let op = operation_label(operation);
        let op = if inner.latency.contains_key(&op) || inner.latency.len() < MAX_OPERATIONS {
            op
        } else {
            "other".to_owned()
        };
        *inner.requests.entry((op.clone(), status)).or_default() += 1;
        let h = inner.latency.entry(op).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
        for code in codes {
            *inner.errors.entry((*code).to_owned()).or_default() += 1;
        }
    }

    pub fn render(&self, pool_connections: u32, pool_idle: u32) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        out.push_str("# HELP birgemiz_graphql_requests_total GraphQL requests by operation name and HTTP status.\n");
        out.push_str("# TYPE birgemiz_graphql_requests_total counter\n");
        for ((op, status), n) in &inner.requests {
            out += &format!(
                "birgemiz_graphql_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}\n"
            );
        }
        out.push_str("# HELP birgemiz_graphql_request_duration_seconds GraphQL request latency.\n");
        out.push_str("# TYPE birgemiz_graphql_request_duration_seconds histogram\n");
        for (op, h) in &inner.latency {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                out += &format!(
                    "birgemiz_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}\n"
                );
            }
            out += &format!(
                "birgemiz_graphql_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}\n",
                h.count
            );
            out += &format!(
                "birgemiz_graphql_request_duration_seconds_sum{{operation=\"{op}\"}} {}\n",
                h.sum
            );
            out += &format!(
                "birgemiz_graphql_request_duration_seconds_count{{operation=\"{op}\"}} {}\n",
                h.count
            );
        }
        out.push_str("# HELP birgemiz_graphql_errors_total GraphQL errors by extensions.code.\n");
        out.push_str("# TYPE birgemiz_graphql_errors_total counter\n");
        for (code, n) in &inner.errors {
            out += &format!("birgemiz_graphql_errors_total{{code=\"{code}\"}} {n}\n");
        }
        out.push_str("# HELP birgemiz_db_pool_connections PostgreSQL pool connections by state.\n");
        out.push_str("# TYPE birgemiz_db_pool_connections gauge\n");
        let in_use = pool_connections.saturating_sub(pool_idle);
        out += &format!("birgemiz_db_pool_connections{{state=\"in_use\"}} {in_use}\n");
        out += &format!("birgemiz_db_pool_connections{{state=\"idle\"}} {pool_idle}\n");
        out
    }
}

/// A label-safe operation name: GraphQL names are `[_A-Za-z][_0-9A-Za-z]*`; anything else is "invalid".
fn operation_label(operation: Option<&str>) -> String {
    match operation {
        None | Some("") => "anonymous".into(),
        Some(op) if op.len() <= 64 && op.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            op.into()
        }
        Some(_) => "invalid".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_renders() {
        let m = Metrics::default();
        m.record(Some("FrontPage"), 200, Duration::from_millis(3), &[]);
        m.record(
            Some("bad\"name"),
            200,
            Duration::from_millis(30),
            &["BAD_USER_INPUT"],
        );
        let text = m.render(3, 1);
        assert!(
            text.contains(
                "birgemiz_graphql_requests_total{operation=\"FrontPage\",status=\"200\"} 1"
            )
        );
        assert!(text.contains("operation=\"invalid\""));
        assert!(text.contains("birgemiz_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1"));
        assert!(text.contains("le=\"0.005\"} 1"));
    }
}
