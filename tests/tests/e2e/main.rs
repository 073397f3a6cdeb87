//! One integration-test binary: every end-to-end test, as modules.

mod email_links;
mod email_reminders;
mod email_subscriptions;
mod email_worker;
mod awards_common;
mod awards_concurrency;
mod awards_flow;
mod awards_live;
mod foundation;
mod http_hardening;
