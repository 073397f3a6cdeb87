SELECT fold_vote_counts();
DROP FUNCTION fold_vote_counts();
DROP TABLE vote_count_deltas;
-- The counter trigger as 2026-11-25-300002_vote_count_lock_order left it.
CREATE OR REPLACE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nomination_id = NEW.nomination_id AND OLD.category_id = NEW.category_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM 1 FROM nominations WHERE id IN (OLD.nomination_id, NEW.nomination_id)
            ORDER BY id FOR NO KEY UPDATE;
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
    IF TG_OP = 'UPDATE' THEN
        PERFORM 1 FROM award_categories WHERE id IN (OLD.category_id, NEW.category_id)
            ORDER BY id FOR NO KEY UPDATE;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE award_categories SET vote_count = vote_count - 1 WHERE id = OLD.category_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE award_categories SET vote_count = vote_count + 1 WHERE id = NEW.category_id;
    END IF;
    RETURN NULL;
END $$;
