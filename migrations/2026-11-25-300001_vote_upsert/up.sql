-- castVote is one upsert. PostgreSQL 15 has no RETURNING old.*, so the upsert itself records the
-- nomination a move came from: the event log then gets the exact "from" even when the same voter's
-- requests race, without a locking read first.
ALTER TABLE votes ADD COLUMN previous_nomination_id bigint;

-- A move inside one category leaves the category's total unchanged: skipping the -1/+1 on the
-- category row keeps that hot row out of every move's locks.
CREATE OR REPLACE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nomination_id = NEW.nomination_id AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE nominations SET vote_count = vote_count - 1 WHERE id = OLD.nomination_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE nominations SET vote_count = vote_count + 1 WHERE id = NEW.nomination_id;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE award_categories SET vote_count = vote_count - 1 WHERE id = OLD.category_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE award_categories SET vote_count = vote_count + 1 WHERE id = NEW.category_id;
    END IF;
    RETURN NULL;
END $$;
