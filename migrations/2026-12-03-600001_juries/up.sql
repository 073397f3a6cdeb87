-- Juries and final results: the formula, criteria, jurors and their scores, and the frozen
-- snapshot. Everything here is keyed to an award; see docs/results.md.

-- The award's result formula; an award without a row has the default one (public vote only,
-- ranked by share, which orders exactly like the vote counts).
CREATE TABLE award_result_formulas (
    award_id         bigint PRIMARY KEY REFERENCES awards (id) ON DELETE CASCADE,
    public_weight    double precision NOT NULL DEFAULT 1 CHECK (public_weight >= 0 AND public_weight <= 1),
    method           text NOT NULL DEFAULT 'WEIGHTED_SHARE' CHECK (method IN ('RANK_POINTS', 'WEIGHTED_SHARE')),
    rank_points      integer[] CHECK (rank_points IS NULL OR (cardinality(rank_points) BETWEEN 1 AND 100 AND 0 <= ALL (rank_points))),
    normalize_jurors boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((method = 'RANK_POINTS') = (rank_points IS NOT NULL))
);

CREATE TABLE judging_criteria (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    award_id    bigint NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    title       jsonb NOT NULL CHECK (i18n_valid(title)),
    description jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(description)),
    weight      double precision NOT NULL CHECK (weight > 0 AND weight <= 1000),
    max_score   integer NOT NULL CHECK (max_score BETWEEN 1 AND 100),
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (award_id, position)
);

CREATE TABLE jurors (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    award_id            bigint NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    email               text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    -- Null until the invited address has an account (it is created when the link is first used).
    user_id             bigint REFERENCES users (id) ON DELETE SET NULL,
    locale              text NOT NULL CHECK (locale IN ('kk', 'ru', 'en')),
    -- The sign-in link the invitation carried: using it is accepting the seat.
    invitation_token_id bigint REFERENCES one_time_tokens (id) ON DELETE SET NULL,
    invited_by          bigint REFERENCES users (id) ON DELETE SET NULL,
    invited_at          timestamptz NOT NULL DEFAULT now(),
    accepted_at         timestamptz,
    submitted_at        timestamptz,
    CONSTRAINT jurors_award_email_key UNIQUE (award_id, email)
);
CREATE INDEX jurors_user_idx ON jurors (user_id);
CREATE INDEX jurors_email_idx ON jurors (email) WHERE user_id IS NULL;
CREATE INDEX jurors_token_idx ON jurors (invitation_token_id);
CREATE INDEX jurors_invited_by_idx ON jurors (invited_by);

-- The categories a juror scores; none means all of the award's.
CREATE TABLE juror_categories (
    juror_id    bigint NOT NULL REFERENCES jurors (id) ON DELETE CASCADE,
    category_id bigint NOT NULL REFERENCES award_categories (id) ON DELETE CASCADE,
    PRIMARY KEY (juror_id, category_id)
);
CREATE INDEX juror_categories_category_idx ON juror_categories (category_id);

CREATE TABLE juror_conflicts (
    juror_id      bigint NOT NULL REFERENCES jurors (id) ON DELETE CASCADE,
    nomination_id bigint NOT NULL REFERENCES nominations (id) ON DELETE CASCADE,
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    declared_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (juror_id, nomination_id)
);
CREATE INDEX juror_conflicts_nomination_idx ON juror_conflicts (nomination_id);

CREATE TABLE jury_scores (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    juror_id      bigint NOT NULL REFERENCES jurors (id) ON DELETE CASCADE,
    nomination_id bigint NOT NULL REFERENCES nominations (id) ON DELETE CASCADE,
    -- The weighted total (0–1) of the criteria below, kept so lists need not recompute it.
    total         double precision NOT NULL CHECK (total >= 0 AND total <= 1),
    comment       text CHECK (length(comment) <= 5000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jury_scores_juror_nomination_key UNIQUE (juror_id, nomination_id)
);
CREATE INDEX jury_scores_nomination_idx ON jury_scores (nomination_id);

CREATE TABLE jury_criterion_scores (
    score_id     bigint NOT NULL REFERENCES jury_scores (id) ON DELETE CASCADE,
    criterion_id bigint NOT NULL REFERENCES judging_criteria (id) ON DELETE CASCADE,
    score        integer NOT NULL CHECK (score >= 0),
    PRIMARY KEY (score_id, criterion_id)
);
CREATE INDEX jury_criterion_scores_criterion_idx ON jury_criterion_scores (criterion_id);

-- Votes taken out of the count (one voter's vote in one category), reversible: the freeze
-- recounts the log without the rows here that are not released. Written by the integrity
-- issue's quarantineVotes; read by freezeResults.
CREATE TABLE vote_quarantines (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id    bigint NOT NULL REFERENCES award_categories (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason         text NOT NULL,
    quarantined_by bigint REFERENCES users (id) ON DELETE SET NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    released_at    timestamptz
);
CREATE INDEX vote_quarantines_category_idx ON vote_quarantines (category_id, user_id) WHERE released_at IS NULL;
CREATE INDEX vote_quarantines_user_idx ON vote_quarantines (user_id);
CREATE INDEX vote_quarantines_by_idx ON vote_quarantines (quarantined_by);

-- The frozen results: the exact bytes served at /results/{sha256}.json.
CREATE TABLE result_snapshots (
    award_id       bigint PRIMARY KEY REFERENCES awards (id) ON DELETE CASCADE,
    frozen_at      timestamptz NOT NULL,
    frozen_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    document       text NOT NULL,
    sha256         text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    votes_counted  integer NOT NULL,
    votes_excluded integer NOT NULL
);
CREATE INDEX result_snapshots_frozen_by_idx ON result_snapshots (frozen_by);

-- The ranking of the snapshot, one row per approved nomination, for finalResults.
CREATE TABLE final_results (
    category_id   bigint NOT NULL REFERENCES award_categories (id) ON DELETE CASCADE,
    nomination_id bigint NOT NULL REFERENCES nominations (id) ON DELETE CASCADE,
    rank          integer NOT NULL,
    score         double precision NOT NULL,
    public_votes  integer NOT NULL,
    public_rank   integer NOT NULL,
    jury_score    double precision,
    jury_rank     integer,
    jurors_scored integer NOT NULL,
    PRIMARY KEY (category_id, nomination_id)
);
CREATE INDEX final_results_nomination_idx ON final_results (nomination_id);
