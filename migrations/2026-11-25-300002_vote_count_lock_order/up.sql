-- Two voters moving in opposite directions (A: n1 → n2, B: n2 → n1) locked the two nomination
-- rows in opposite orders and deadlocked. Rows are now locked in id order before the counters
-- change; the category row always comes after its nominations.
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
