ALTER TABLE email_subscriptions RESET (fillfactor);
ALTER TABLE outbox RESET (fillfactor);
