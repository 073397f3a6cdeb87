DROP INDEX vote_events_forensics_idx;
CREATE OR REPLACE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nomination_id = NEW.nomination_id AND OLD.category_id = NEW.category_id THEN
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
DROP TABLE vote_quarantine_log;
DROP FUNCTION vote_quarantine_log_append_only();
DROP INDEX vote_quarantines_released_by_idx;
DROP INDEX vote_quarantines_signal_idx;
ALTER TABLE vote_quarantines DROP COLUMN released_by, DROP COLUMN signal_kind, DROP COLUMN signal_id;
DROP FUNCTION cast_vote(bigint, bigint, bigint, bigint, bigint, timestamptz);
CREATE FUNCTION cast_vote(p_user bigint, p_nomination bigint, p_ip text, p_now timestamptz)
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
        INSERT INTO vote_events (vote_id, user_id, category_id, kind, from_nomination_id, to_nomination_id, ip)
        SELECT v.id, p_user, v.category_id,
               CASE WHEN v.inserted THEN 'CAST' ELSE 'MOVE' END,
               CASE WHEN v.inserted THEN NULL ELSE v.previous_nomination_id END,
               v.nomination_id, p_ip
        FROM v
    )
    SELECT v.id, v.category_id, v.nomination_id,
           CASE WHEN v.inserted THEN NULL ELSE v.previous_nomination_id END,
           v.created_at, t.live_counts
    FROM v, target t;
END $$;
DROP TRIGGER vote_events_forget_only ON vote_events;
DROP FUNCTION vote_events_forget_only();
DROP TRIGGER vote_events_append_only ON vote_events;
CREATE TRIGGER vote_events_append_only BEFORE UPDATE OR DELETE ON vote_events
    FOR EACH STATEMENT EXECUTE FUNCTION vote_events_append_only();
ALTER TABLE vote_events DROP COLUMN ua_hash, DROP COLUMN addr_hash, DROP COLUMN net_hash,
    ADD COLUMN ip text;
