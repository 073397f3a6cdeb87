//! One integration-test binary: every end-to-end test, as modules.

mod awards_common;
mod awards_concurrency;
mod awards_flow;
mod awards_live;
mod foundation;
