CREATE INDEX vote_events_from_idx ON vote_events (from_nomination_id);
CREATE INDEX vote_events_to_idx ON vote_events (to_nomination_id);
ALTER TABLE vote_events
    ADD CONSTRAINT vote_events_category_id_fkey FOREIGN KEY (category_id) REFERENCES award_categories (id) ON DELETE CASCADE,
    ADD CONSTRAINT vote_events_from_nomination_id_fkey FOREIGN KEY (from_nomination_id) REFERENCES nominations (id) ON DELETE CASCADE,
    ADD CONSTRAINT vote_events_to_nomination_id_fkey FOREIGN KEY (to_nomination_id) REFERENCES nominations (id) ON DELETE CASCADE;
ALTER TABLE votes DROP CONSTRAINT votes_nomination_category_fkey,
                  ADD CONSTRAINT votes_category_id_fkey FOREIGN KEY (category_id) REFERENCES award_categories (id) ON DELETE CASCADE,
                  ADD CONSTRAINT votes_nomination_id_fkey FOREIGN KEY (nomination_id) REFERENCES nominations (id) ON DELETE CASCADE;
ALTER TABLE nominations DROP CONSTRAINT nominations_id_category_key;
