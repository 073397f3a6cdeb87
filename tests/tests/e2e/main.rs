//! One integration-test binary for the end-to-end tests (real binaries, PostgreSQL, Redis, SMTP).

mod email_worker;
