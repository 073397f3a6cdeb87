//! One integration-test binary: every end-to-end test, as modules.

mod foundation;
mod public_accounts;
mod public_catalog;
mod public_front_page;
mod public_news_search;
mod public_support;
