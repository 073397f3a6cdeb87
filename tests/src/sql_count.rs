//! Counts the SQL statements sent to each database by every diesel connection of this process
//! (the API under test included), through diesel's instrumentation hook: a test can assert that
//! a page costs a fixed number of statements; and records their texts when asked (`record`), so
//! that a test can EXPLAIN exactly what a page sends.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, Once};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

static COUNTS: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Default::default);
static INSTALL: Once = Once::new();

struct Counter {
    url: Option<String>,
    /// Connection setup (time zone, encoding) is not the application's doing: not counted.
    established: bool,
}

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.url = Some(url.to_owned());
            }
            InstrumentationEvent::FinishEstablishConnection { .. } => self.established = true,
            InstrumentationEvent::StartQuery { query, .. } => {
                if let Some(url) = &self.url
                    && self.established
                {
                    if let Ok(mut counts) = COUNTS.lock() {
                        *counts.entry(url.clone()).or_default() += 1;
                    }
                    if let Ok(mut recorded) = RECORDED.lock()
                        && let Some(statements) = recorded.get_mut(url)
                    {
                        statements.push(query.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Installs the counter for connections opened from now on (call before starting the API).
pub fn install() {
    INSTALL.call_once(|| {
        set_default_instrumentation(|| {
            Some(Box::new(Counter {
                url: None,
                established: false,
            }))
        })
        .expect("install instrumentation");
    });
}

/// Statements sent so far to the database at `url`.
pub fn count(url: &str) -> u64 {
    COUNTS
        .lock()
        .map(|c| c.get(url).copied().unwrap_or(0))
        .unwrap_or(0)
}

static RECORDED: LazyLock<Mutex<HashMap<String, Vec<String>>>> = LazyLock::new(Default::default);

/// Records, from now on, the text of every statement sent to the database at `url` (as diesel
/// prints it: the SQL, then ` -- binds: [...]`), for `take_recorded`. Needs `install` first.
pub fn record(url: &str) {
    if let Ok(mut r) = RECORDED.lock() {
        r.insert(url.to_owned(), Vec::new());
    }
}

/// The statements recorded for `url` since `record`, in the order they were sent; recording
/// stops.
pub fn take_recorded(url: &str) -> Vec<String> {
    RECORDED
        .lock()
        .map(|mut r| r.remove(url).unwrap_or_default())
        .unwrap_or_default()
}
