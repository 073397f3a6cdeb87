//! One integration-test binary: every end-to-end test, as modules.

mod account_rate_limits;
mod auth_link;
mod awards_common;
mod awards_concurrency;
mod awards_flow;
mod awards_live;
mod awards_node;
mod email_links;
mod email_reminders;
mod email_subscriptions;
mod email_worker;
mod foundation;
mod http_hardening;
mod public_accounts;
mod public_catalog;
mod public_front_page;
mod public_news_search;
mod public_support;
mod scale_counters;
mod scale_explain;
mod scale_out;
mod worker_metrics;
