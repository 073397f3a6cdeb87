-- Room on each page for the next version of a row, so that updates of unindexed columns stay on
-- the page as HOT updates (no new entry in any index) instead of copies with a new entry in every
-- index: the outbox's claim (lease, attempts) before its SENT mark, and a digest's
-- `last_digest_at` on each subscriber (four indexes, one of them GIN). Applies to pages written
-- from now on.
ALTER TABLE outbox SET (fillfactor = 50);
ALTER TABLE email_subscriptions SET (fillfactor = 50);
