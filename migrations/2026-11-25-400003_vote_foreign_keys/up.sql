-- Every foreign key check takes a FOR KEY SHARE lock on the referenced row, which writes to that
-- row and, when several transactions hold it at once, builds a multixact of all of them. A vote
-- checked its category and its nomination separately, so every concurrent voter of a category
-- queued into the same multixact on the category row. One composite key on the nomination now
-- checks both, and says more: a vote's category is its nomination's category.
ALTER TABLE nominations ADD CONSTRAINT nominations_id_category_key UNIQUE (id, category_id);
ALTER TABLE votes DROP CONSTRAINT votes_category_id_fkey,
                  DROP CONSTRAINT votes_nomination_id_fkey,
                  ADD CONSTRAINT votes_nomination_category_fkey FOREIGN KEY (nomination_id, category_id)
                      REFERENCES nominations (id, category_id) ON DELETE CASCADE;

-- The log's category and nominations are copied from the vote written in the same statement
-- (cast_vote, the retraction), which its own key has just checked; checking them again took
-- three more shared locks on the hottest rows per vote. The log is append-only, so nothing can
-- change them later.
ALTER TABLE vote_events DROP CONSTRAINT vote_events_category_id_fkey,
                        DROP CONSTRAINT vote_events_from_nomination_id_fkey,
                        DROP CONSTRAINT vote_events_to_nomination_id_fkey;

-- Nothing reads the log by nomination any more (the recount reads a category's events in one
-- pass), and every vote paid for two more index entries.
DROP INDEX vote_events_from_idx;
DROP INDEX vote_events_to_idx;
