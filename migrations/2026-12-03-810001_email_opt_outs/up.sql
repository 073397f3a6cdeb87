-- One row per address and kind of participant email its owner stopped (schema/src/opt_outs.rs).
CREATE TABLE email_opt_outs (
    email      text NOT NULL CHECK (email = lower(email)),
    kind       text NOT NULL CHECK (kind IN ('APPLICATIONS', 'PROJECT_MANAGEMENT', 'NOMINATIONS', 'JURY')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, kind)
);

-- The short-lived code the api's sign-in page hands to the frontend in a URL fragment.
ALTER TABLE one_time_tokens DROP CONSTRAINT one_time_tokens_purpose_check;
ALTER TABLE one_time_tokens ADD CONSTRAINT one_time_tokens_purpose_check
    CHECK (purpose IN ('VERIFY_EMAIL', 'SIGN_IN', 'CONFIRM_SUBSCRIPTION', 'SIGN_IN_CODE'));
