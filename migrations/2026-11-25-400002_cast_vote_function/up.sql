-- castVote's statement used to arrive as text and was parsed and planned on every call, which was
-- half of its time in PostgreSQL. PL/pgSQL keeps the plan for the life of the connection.
-- The statement is the one castVote ran before: the phase and status checks, the upsert that holds
-- "one vote per category" and the event, so a vote never exists without its event and racing
-- requests of one voter serialize on the vote row. `previous_nomination_id` is written by the
-- upsert itself because PostgreSQL 15 can't return the old row from ON CONFLICT DO UPDATE.
-- No row comes back when nothing was written: the caller then finds out why.
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
