//! `birgemiz-api`: the GraphQL API server and its operator commands.

use std::process::ExitCode;

use birgemiz_api::{cli, telemetry};

// A GraphQL response is hundreds of small allocations, which glibc's malloc serves far more
// slowly than mimalloc (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on; the chain is joined rather than printed as a trace.
            eprintln!("birgemiz-api: {e:#}");
            ExitCode::FAILURE
        }
    }
}
