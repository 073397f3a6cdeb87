DELETE FROM one_time_tokens WHERE purpose = 'SIGN_IN_CODE';
ALTER TABLE one_time_tokens DROP CONSTRAINT one_time_tokens_purpose_check;
ALTER TABLE one_time_tokens ADD CONSTRAINT one_time_tokens_purpose_check
    CHECK (purpose IN ('VERIFY_EMAIL', 'SIGN_IN', 'CONFIRM_SUBSCRIPTION'));
DROP TABLE email_opt_outs;
