-- The whole Birgemiz domain. Later migrations only add.
--
-- Localized text is one jsonb column per field ({"kk": …, "ru": …, "en": …}): a row carries all
-- its translations, so lists need no join and the kk → ru → en fallback is a pure function.
-- Status values are text with CHECK constraints rather than PostgreSQL enums: adding a value is
-- an ordinary migration and the Rust enums map them in one place.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Immutable so that it can feed generated columns and indexes: all translations of a jsonb text.
CREATE FUNCTION i18n_all(t jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(t->>'kk', '') || ' ' || coalesce(t->>'ru', '') || ' ' || coalesce(t->>'en', '')
$$;

CREATE FUNCTION i18n_valid(t jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(t) = 'object'
       AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(t) k WHERE k NOT IN ('kk', 'ru', 'en'))
$$;

-- ───────────── users and auth ─────────────

CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             text NOT NULL,
    password_hash     text,
    display_name      text NOT NULL,
    locale            text NOT NULL DEFAULT 'kk' CHECK (locale IN ('kk', 'ru', 'en')),
    role              text NOT NULL DEFAULT 'MEMBER' CHECK (role IN ('ADMIN', 'MEMBER')),
    email_verified_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email) AND position('@' IN email) > 1)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
SELECT diesel_manage_updated_at('users');

CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the bearer token: a database leak yields no usable session.
    token_hash   bytea NOT NULL UNIQUE,
    -- Set when the session was opened by a sign-in link (the password-reset path).
    via_link     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE one_time_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('VERIFY_EMAIL', 'SIGN_IN', 'CONFIRM_SUBSCRIPTION')),
    -- A sign-in link for an unknown address creates the account on first use: no user yet.
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    email      text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX one_time_tokens_user_id_idx ON one_time_tokens (user_id);
CREATE INDEX one_time_tokens_email_idx ON one_time_tokens (email, purpose, created_at);

-- ───────────── organizations ─────────────

CREATE TABLE organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        jsonb NOT NULL CHECK (i18n_valid(name)),
    description jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(description)),
    kind        text NOT NULL CHECK (kind IN ('NGO', 'STATE', 'INITIATIVE_GROUP', 'CLUB', 'NETWORK', 'INTERNATIONAL', 'COMPANY')),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region      text,
    city        text,
    website     text,
    verified    boolean NOT NULL DEFAULT false,
    -- Kept by triggers below so that MOST_PROJECTS ordering reads an indexed column.
    published_project_count integer NOT NULL DEFAULT 0,
    search_text text GENERATED ALWAYS AS (lower(i18n_all(name) || ' ' || i18n_all(description) || ' ' || coalesce(city, '') || ' ' || coalesce(region, ''))) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('organizations');
CREATE INDEX organizations_created_idx ON organizations (created_at DESC, id DESC);
CREATE INDEX organizations_name_idx ON organizations ((lower(coalesce(name->>'kk', name->>'ru', name->>'en'))), id);
CREATE INDEX organizations_projects_idx ON organizations (published_project_count DESC, id DESC);
CREATE INDEX organizations_filter_idx ON organizations (country, kind);
CREATE INDEX organizations_search_trgm_idx ON organizations USING gin (search_text gin_trgm_ops);
CREATE INDEX organizations_search_fts_idx ON organizations USING gin (to_tsvector('simple', search_text));

CREATE TABLE network_memberships (
    network_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id  bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (network_id, member_id),
    CHECK (network_id <> member_id)
);
CREATE INDEX network_memberships_member_idx ON network_memberships (member_id);

CREATE TABLE organization_managers (
    organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('OWNER', 'MANAGER')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_managers_user_idx ON organization_managers (user_id);

-- ───────────── projects and applications ─────────────

CREATE TABLE projects (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug              text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    organization_id   bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    title             jsonb NOT NULL CHECK (i18n_valid(title)),
    summary           jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(summary)),
    description       jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(description)),
    direction         text NOT NULL CHECK (direction IN ('SOCIAL', 'EVENTS', 'ANIMALS', 'ETHNO', 'EMERGENCY', 'MEDICAL', 'CULTURE', 'MEDIA', 'ONLINE', 'ENVIRONMENT', 'EDUCATION', 'SPORTS', 'SILVER')),
    status            text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')),
    country           text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region            text,
    city              text,
    starts_at         timestamptz,
    ends_at           timestamptz,
    volunteers_needed integer CHECK (volunteers_needed IS NULL OR volunteers_needed > 0),
    -- Accepted applications, kept by a trigger so lists never count per row.
    volunteer_count   integer NOT NULL DEFAULT 0 CHECK (volunteer_count >= 0),
    search_text       text GENERATED ALWAYS AS (lower(i18n_all(title) || ' ' || i18n_all(summary) || ' ' || i18n_all(description) || ' ' || coalesce(city, '') || ' ' || coalesce(region, ''))) STORED,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz,
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at),
    CHECK ((status = 'DRAFT') OR published_at IS NOT NULL)
);
SELECT diesel_manage_updated_at('projects');
CREATE INDEX projects_org_idx ON projects (organization_id, status, created_at DESC, id DESC);
CREATE INDEX projects_newest_idx ON projects (status, created_at DESC, id DESC);
CREATE INDEX projects_starts_idx ON projects (status, starts_at, id);
CREATE INDEX projects_volunteers_idx ON projects (status, volunteer_count DESC, id DESC);
CREATE INDEX projects_filter_idx ON projects (status, direction, country, region);
CREATE INDEX projects_published_idx ON projects (published_at) WHERE status = 'PUBLISHED';
CREATE INDEX projects_search_trgm_idx ON projects USING gin (search_text gin_trgm_ops);
CREATE INDEX projects_search_fts_idx ON projects USING gin (to_tsvector('simple', search_text));

CREATE TABLE applications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    volunteer_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message      text CHECK (message IS NULL OR length(message) <= 4000),
    status       text NOT NULL DEFAULT 'SUBMITTED' CHECK (status IN ('SUBMITTED', 'ACCEPTED', 'DECLINED', 'WITHDRAWN')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    UNIQUE (project_id, volunteer_id),
    CHECK ((status IN ('ACCEPTED', 'DECLINED')) = (decided_at IS NOT NULL) OR status = 'WITHDRAWN')
);
SELECT diesel_manage_updated_at('applications');
CREATE INDEX applications_project_idx ON applications (project_id, status, created_at DESC, id DESC);
CREATE INDEX applications_volunteer_idx ON applications (volunteer_id, created_at DESC, id DESC);

CREATE FUNCTION applications_count_volunteers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An upsert that rewrites the same values must not touch the parent row.
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.project_id = NEW.project_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'ACCEPTED' THEN
        UPDATE projects SET volunteer_count = volunteer_count - 1 WHERE id = OLD.project_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'ACCEPTED' THEN
        UPDATE projects SET volunteer_count = volunteer_count + 1 WHERE id = NEW.project_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications_count_volunteers AFTER INSERT OR UPDATE OF status, project_id OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_count_volunteers();

CREATE FUNCTION projects_count_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.organization_id = NEW.organization_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'PUBLISHED' THEN
        UPDATE organizations SET published_project_count = published_project_count - 1 WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'PUBLISHED' THEN
        UPDATE organizations SET published_project_count = published_project_count + 1 WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_count_published AFTER INSERT OR UPDATE OF status, organization_id OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_count_published();

-- ───────────── news ─────────────

CREATE TABLE posts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    organization_id bigint REFERENCES organizations (id) ON DELETE SET NULL,
    author_id       bigint REFERENCES users (id) ON DELETE SET NULL,
    title           jsonb NOT NULL CHECK (i18n_valid(title)),
    body            jsonb NOT NULL CHECK (i18n_valid(body)),
    view_count      bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    search_text     text GENERATED ALWAYS AS (lower(i18n_all(title) || ' ' || i18n_all(body))) STORED,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz
);
SELECT diesel_manage_updated_at('posts');
CREATE INDEX posts_published_idx ON posts (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX posts_created_idx ON posts (created_at DESC, id DESC);
CREATE INDEX posts_org_idx ON posts (organization_id, published_at DESC, id DESC);
CREATE INDEX posts_author_idx ON posts (author_id);
CREATE INDEX posts_search_trgm_idx ON posts USING gin (search_text gin_trgm_ops);
CREATE INDEX posts_search_fts_idx ON posts USING gin (to_tsvector('simple', search_text));

-- One counted view per client per hour: the key is a hash of the client, the bucket the hour.
CREATE TABLE post_views (
    post_id    bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    client_key bytea NOT NULL,
    hour       timestamptz NOT NULL,
    PRIMARY KEY (post_id, client_key, hour)
);
CREATE INDEX post_views_hour_idx ON post_views (hour);

-- ───────────── awards ─────────────

CREATE TABLE awards (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title                jsonb NOT NULL CHECK (i18n_valid(title)),
    description          jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(description)),
    year                 integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    countries            text[] NOT NULL CHECK (cardinality(countries) > 0),
    nomination_opens_at  timestamptz NOT NULL,
    nomination_closes_at timestamptz NOT NULL,
    voting_opens_at      timestamptz NOT NULL,
    voting_closes_at     timestamptz NOT NULL,
    results_published_at timestamptz,
    live_counts          boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (nomination_opens_at < nomination_closes_at
       AND nomination_closes_at <= voting_opens_at
       AND voting_opens_at < voting_closes_at),
    CHECK (results_published_at IS NULL OR results_published_at >= voting_closes_at)
);
SELECT diesel_manage_updated_at('awards');
CREATE INDEX awards_year_idx ON awards (year DESC, id DESC);
CREATE INDEX awards_voting_closes_idx ON awards (voting_closes_at);
CREATE INDEX awards_nomination_closes_idx ON awards (nomination_closes_at);

CREATE TABLE award_categories (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    award_id    bigint NOT NULL REFERENCES awards (id) ON DELETE CASCADE,
    title       jsonb NOT NULL CHECK (i18n_valid(title)),
    description jsonb NOT NULL DEFAULT '{}' CHECK (i18n_valid(description)),
    position    integer NOT NULL DEFAULT 0,
    -- Counter of current votes, kept by the vote trigger below.
    vote_count  integer NOT NULL DEFAULT 0 CHECK (vote_count >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (award_id, position)
);
SELECT diesel_manage_updated_at('award_categories');

CREATE TABLE nominations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id     bigint NOT NULL REFERENCES award_categories (id) ON DELETE RESTRICT,
    nominee_name    text NOT NULL CHECK (length(nominee_name) BETWEEN 1 AND 200),
    -- The name folded for comparison (case, spaces, punctuation): "the same nominee twice" rule.
    nominee_key     text NOT NULL,
    nominee_kind    text NOT NULL CHECK (nominee_kind IN ('PERSON', 'PROJECT', 'ORGANIZATION')),
    project_id      bigint REFERENCES projects (id) ON DELETE SET NULL,
    organization_id bigint REFERENCES organizations (id) ON DELETE SET NULL,
    statement       text NOT NULL CHECK (length(statement) BETWEEN 1 AND 5000),
    country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region          text,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN')),
    submitted_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    moderation_note text,
    moderated_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    moderated_at    timestamptz,
    vote_count      integer NOT NULL DEFAULT 0 CHECK (vote_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('nominations');
CREATE UNIQUE INDEX nominations_unique_nominee ON nominations (category_id, nominee_key)
    WHERE status IN ('PENDING', 'APPROVED');
CREATE INDEX nominations_category_idx ON nominations (category_id, status, created_at DESC, id DESC);
CREATE INDEX nominations_category_votes_idx ON nominations (category_id, status, vote_count DESC, id);
CREATE INDEX nominations_category_name_idx ON nominations (category_id, status, nominee_key, id);
CREATE INDEX nominations_submitter_idx ON nominations (submitted_by, created_at DESC, id DESC);
CREATE INDEX nominations_project_idx ON nominations (project_id);
CREATE INDEX nominations_organization_idx ON nominations (organization_id);
CREATE INDEX nominations_moderated_by_idx ON nominations (moderated_by);

-- The current vote: one per voter and category, held here rather than in code.
CREATE TABLE votes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id   bigint NOT NULL REFERENCES award_categories (id) ON DELETE CASCADE,
    nomination_id bigint NOT NULL REFERENCES nominations (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT votes_one_per_category UNIQUE (user_id, category_id)
);
SELECT diesel_manage_updated_at('votes');
CREATE INDEX votes_nomination_idx ON votes (nomination_id);
CREATE INDEX votes_category_idx ON votes (category_id);

CREATE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nomination_id = NEW.nomination_id AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE nominations SET vote_count = vote_count - 1 WHERE id = OLD.nomination_id;
        UPDATE award_categories SET vote_count = vote_count - 1 WHERE id = OLD.category_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE nominations SET vote_count = vote_count + 1 WHERE id = NEW.nomination_id;
        UPDATE award_categories SET vote_count = vote_count + 1 WHERE id = NEW.category_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER votes_count AFTER INSERT OR UPDATE OF nomination_id, category_id OR DELETE ON votes
    FOR EACH ROW EXECUTE FUNCTION votes_count();

-- Append-only history of every cast, move and retraction; counts can be recomputed from it.
CREATE TABLE vote_events (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vote_id            bigint NOT NULL,
    user_id            bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id        bigint NOT NULL REFERENCES award_categories (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('CAST', 'MOVE', 'RETRACT')),
    from_nomination_id bigint REFERENCES nominations (id) ON DELETE CASCADE,
    to_nomination_id   bigint REFERENCES nominations (id) ON DELETE CASCADE,
    ip                 text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'CAST' AND from_nomination_id IS NULL AND to_nomination_id IS NOT NULL)
        OR (kind = 'MOVE' AND from_nomination_id IS NOT NULL AND to_nomination_id IS NOT NULL)
        OR (kind = 'RETRACT' AND from_nomination_id IS NOT NULL AND to_nomination_id IS NULL))
);
CREATE INDEX vote_events_category_idx ON vote_events (category_id, id);
CREATE INDEX vote_events_user_idx ON vote_events (user_id);
CREATE INDEX vote_events_from_idx ON vote_events (from_nomination_id);
CREATE INDEX vote_events_to_idx ON vote_events (to_nomination_id);

CREATE FUNCTION vote_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vote_events is append-only';
END $$;
CREATE TRIGGER vote_events_append_only BEFORE UPDATE OR DELETE ON vote_events
    FOR EACH STATEMENT EXECUTE FUNCTION vote_events_append_only();

-- ───────────── email ─────────────

CREATE TABLE email_subscriptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text NOT NULL UNIQUE CHECK (email = lower(email)),
    locale          text NOT NULL DEFAULT 'kk' CHECK (locale IN ('kk', 'ru', 'en')),
    topics          text[] NOT NULL DEFAULT '{WEEKLY_DIGEST}' CHECK (topics <@ ARRAY['WEEKLY_DIGEST', 'AWARD_UPDATES', 'NEWS']),
    status          text NOT NULL DEFAULT 'PENDING_CONFIRMATION' CHECK (status IN ('PENDING_CONFIRMATION', 'ACTIVE', 'UNSUBSCRIBED')),
    confirmed_at    timestamptz,
    unsubscribed_at timestamptz,
    -- What the next digest covers starts here; null means from confirmation.
    last_digest_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('email_subscriptions');
CREATE INDEX email_subscriptions_active_idx ON email_subscriptions (id) WHERE status = 'ACTIVE';
CREATE INDEX email_subscriptions_topics_idx ON email_subscriptions USING gin (topics);

CREATE TABLE digest_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One run per period, however many workers or triggers try to start it.
    period_start    timestamptz NOT NULL UNIQUE,
    period_end      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'QUEUED', 'FINISHED')),
    -- Subscribers already given an outbox row: lets a restarted run continue where it stopped.
    cursor_id       bigint NOT NULL DEFAULT 0,
    recipient_count integer NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK (period_end > period_start)
);
CREATE INDEX digest_runs_started_idx ON digest_runs (started_at DESC, id DESC);

CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL,
    recipient        text NOT NULL,
    locale           text NOT NULL CHECK (locale IN ('kk', 'ru', 'en')),
    -- Ids of what the email is about; the worker renders from current rows.
    payload          jsonb NOT NULL DEFAULT '{}',
    dedupe_key       text NOT NULL UNIQUE,
    -- Bulk mail honours the suppression list and carries List-Unsubscribe.
    bulk             boolean NOT NULL DEFAULT false,
    digest_run_id    bigint REFERENCES digest_runs (id) ON DELETE SET NULL,
    status           text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'SUPPRESSED')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    leased_by        text,
    smtp_response    text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status = 'PENDING';
CREATE INDEX outbox_digest_run_idx ON outbox (digest_run_id, status);

CREATE TABLE suppressions (
    email         text PRIMARY KEY CHECK (email = lower(email)),
    reason        text NOT NULL,
    smtp_response text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
