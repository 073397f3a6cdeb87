//! Structured logs on stderr: `RUST_LOG` filters, `LOG_FORMAT=json|pretty` chooses the shape.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: tests build several routers in one process and only the first may install it.
    let result = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().try_init(),
        _ => builder.try_init(),
    };
    drop(result);
}
