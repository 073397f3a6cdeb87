-- Every vote used to update its nomination's and category's counter inside its own transaction,
-- so concurrent voters in one category queued on those few rows until each commit was flushed.
-- Votes now append a delta row (no shared row to wait for) and `fold_vote_counts()` folds all
-- committed deltas into the counters in one statement, however many votes arrived meanwhile.
-- No foreign keys: checking them would lock the very rows this table exists to keep out of the
-- voters' way; a delta of a deleted nomination or category folds into nothing.
CREATE TABLE vote_count_deltas (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id   bigint NOT NULL,
    nomination_id bigint NOT NULL,
    delta         integer NOT NULL CHECK (delta IN (-1, 1))
);

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

-- Folds every committed delta into the counters and returns how many deltas it folded.
-- Folders take turns on an advisory lock so that two never update the same counters in
-- different orders; the DELETE runs after the lock is granted, with a snapshot taken then, so a
-- delta committed while waiting is folded too. DELETE … RETURNING makes each delta count once
-- however many folders race.
CREATE FUNCTION fold_vote_counts() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7412600001);
    WITH d AS (
        DELETE FROM vote_count_deltas RETURNING category_id, nomination_id, delta
    ), per_nomination AS (
        UPDATE nominations n SET vote_count = n.vote_count + s.delta
        FROM (SELECT nomination_id, sum(delta)::integer AS delta FROM d
              GROUP BY nomination_id HAVING sum(delta) <> 0) s
        WHERE n.id = s.nomination_id
    ), per_category AS (
        UPDATE award_categories c SET vote_count = c.vote_count + s.delta
        FROM (SELECT category_id, sum(delta)::integer AS delta FROM d
              GROUP BY category_id HAVING sum(delta) <> 0) s
        WHERE c.id = s.category_id
    )
    SELECT count(*) INTO folded FROM d;
    RETURN folded;
END $$;
