//! One integration-test binary: every end-to-end test, as modules.

mod foundation;
mod http_hardening;
