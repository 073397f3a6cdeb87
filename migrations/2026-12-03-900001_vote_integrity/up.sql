-- Vote integrity (docs/integrity.md). Each vote event keeps keyed hashes (HMAC-SHA-256 with a
-- key derived from APP_SECRET, first 8 bytes) of the client's network (/24 IPv4, /48 IPv6), its
-- address and its user agent: enough to see one office voting through a hundred mailboxes,
-- nothing that names an address. The raw address the events kept until now goes with this
-- migration; the events it was on simply carry no forensics.
ALTER TABLE vote_events DROP COLUMN ip,
    ADD COLUMN net_hash bigint,
    ADD COLUMN addr_hash bigint,
    ADD COLUMN ua_hash bigint;

-- Still append-only, except that the retention schedule may forget the hashes (set them null).
DROP TRIGGER vote_events_append_only ON vote_events;
CREATE TRIGGER vote_events_append_only BEFORE DELETE ON vote_events
    FOR EACH STATEMENT EXECUTE FUNCTION vote_events_append_only();
CREATE FUNCTION vote_events_forget_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.vote_id, NEW.user_id, NEW.category_id, NEW.kind, NEW.from_nomination_id,
        NEW.to_nomination_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.vote_id, OLD.user_id, OLD.category_id, OLD.kind, OLD.from_nomination_id,
        OLD.to_nomination_id, OLD.created_at)
       OR NEW.net_hash IS NOT NULL OR NEW.addr_hash IS NOT NULL OR NEW.ua_hash IS NOT NULL THEN
        RAISE EXCEPTION 'vote_events is append-only: only its forensic hashes may be forgotten';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vote_events_forget_only BEFORE UPDATE ON vote_events
    FOR EACH ROW EXECUTE FUNCTION vote_events_forget_only();

DROP FUNCTION cast_vote(bigint, bigint, text, timestamptz);
CREATE FUNCTION cast_vote(p_user bigint, p_nomination bigint, p_net bigint, p_addr bigint,
                          p_ua bigint, p_now timestamptz)
RETURNS TABLE (id bigint, category_id bigint, nomination_id bigint, from_id bigint,
               created_at timestamptz, live_counts boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH target AS (
        SELECT n.id, n.category_id, a.live_counts
        FROM nominations n
        JOIN award_categories c ON c.id = n.category_id
        JOIN awards a ON a.id = c.award_id
        WHERE n.id = p_nomination AND n.status = 'APPROVED'
          AND a.voting_opens_at <= p_now AND a.voting_closes_at > p_now
    ), v AS (
        INSERT INTO votes AS vt (user_id, category_id, nomination_id)
        SELECT p_user, t.category_id, t.id FROM target t
        ON CONFLICT ON CONSTRAINT votes_one_per_category DO UPDATE
            SET nomination_id = EXCLUDED.nomination_id,
                previous_nomination_id = vt.nomination_id
            WHERE vt.nomination_id <> EXCLUDED.nomination_id
        RETURNING vt.id, vt.category_id, vt.nomination_id, vt.previous_nomination_id,
                  vt.created_at, (vt.xmax = 0) AS inserted
    ), e AS (
        INSERT INTO vote_events (vote_id, user_id, category_id, kind, from_nomination_id,
                                 to_nomination_id, net_hash, addr_hash, ua_hash)
        SELECT v.id, p_user, v.category_id,
               CASE WHEN v.inserted THEN 'CAST' ELSE 'MOVE' END,
               CASE WHEN v.inserted THEN NULL ELSE v.previous_nomination_id END,
               v.nomination_id, p_net, p_addr, p_ua
        FROM v
    )
    SELECT v.id, v.category_id, v.nomination_id,
           CASE WHEN v.inserted THEN NULL ELSE v.previous_nomination_id END,
           v.created_at, t.live_counts
    FROM v, target t;
END $$;

-- A quarantine row is one voter's vote in one category taken out of the count because of one
-- signal; a voter in two quarantined signals has two rows and stays out until both are released.
ALTER TABLE vote_quarantines
    ADD COLUMN signal_id bigint NOT NULL,
    ADD COLUMN signal_kind text NOT NULL
        CHECK (signal_kind IN ('SHARED_NETWORK', 'BURST', 'NEW_ACCOUNTS', 'SAME_CLIENT')),
    ADD COLUMN released_by bigint REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX vote_quarantines_signal_idx ON vote_quarantines (signal_id) WHERE released_at IS NULL;
CREATE INDEX vote_quarantines_released_by_idx ON vote_quarantines (released_by);

-- Who quarantined or released which signal, when and why: never updated, never deleted. No
-- foreign keys, whose ON DELETE actions would be updates and deletes.
CREATE TABLE vote_quarantine_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signal_id   bigint NOT NULL,
    category_id bigint NOT NULL,
    signal_kind text NOT NULL
        CHECK (signal_kind IN ('SHARED_NETWORK', 'BURST', 'NEW_ACCOUNTS', 'SAME_CLIENT')),
    action      text NOT NULL CHECK (action IN ('QUARANTINE', 'RELEASE')),
    admin_id    bigint NOT NULL,
    reason      text,
    votes       integer NOT NULL,
    -- The signal as the admin saw it, for the report while its votes are out.
    nomination_id bigint,
    baseline    double precision NOT NULL,
    strength    double precision NOT NULL,
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vote_quarantine_log_signal_idx ON vote_quarantine_log (signal_id, id);
CREATE FUNCTION vote_quarantine_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vote_quarantine_log is append-only';
END $$;
CREATE TRIGGER vote_quarantine_log_append_only BEFORE UPDATE OR DELETE ON vote_quarantine_log
    FOR EACH STATEMENT EXECUTE FUNCTION vote_quarantine_log_append_only();

-- A quarantined voter's vote moves no public counter: quarantining takes its vote out of the
-- counters and releasing puts it back (schema/src/integrity.rs), and while it is out its moves
-- and retraction must not count either.
CREATE OR REPLACE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nomination_id = NEW.nomination_id AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM vote_quarantines q
               WHERE q.category_id = coalesce(NEW.category_id, OLD.category_id)
                 AND q.user_id = coalesce(NEW.user_id, OLD.user_id) AND q.released_at IS NULL) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO vote_count_deltas (category_id, nomination_id, delta)
        VALUES (OLD.category_id, OLD.nomination_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO vote_count_deltas (category_id, nomination_id, delta)
        VALUES (NEW.category_id, NEW.nomination_id, 1);
    END IF;
    RETURN NULL;
END $$;

-- The retention schedule finds the events of one award's categories that still carry hashes.
CREATE INDEX vote_events_forensics_idx ON vote_events (category_id)
    WHERE net_hash IS NOT NULL OR addr_hash IS NOT NULL OR ua_hash IS NOT NULL;
