-- Search ranks a bounded candidate set (schema/src/search.rs): of each kind, the texts nearest
-- the query by trigram word similarity, read in that order (`ORDER BY search_text <->> q LIMIT n`)
-- with the similarity threshold (`search_text %> q`) as the index condition. Only GiST gives that
-- order; partial like the searches, so that no hidden row is read. A signature of 256 bytes (not
-- 12) keeps the inner pages' trigram sets from filling up, which would stop the threshold from
-- skipping any of them for a word the texts don't have.
CREATE INDEX organizations_search_gist_idx ON organizations USING gist (search_text gist_trgm_ops (siglen = 256));
CREATE INDEX projects_search_gist_idx ON projects USING gist (search_text gist_trgm_ops (siglen = 256))
    WHERE status = 'PUBLISHED';
CREATE INDEX posts_search_gist_idx ON posts USING gist (search_text gist_trgm_ops (siglen = 256))
    WHERE published_at IS NOT NULL;
-- The full-text query and the similarity are now evaluated on the candidates only: the GIN
-- indexes, which served them over every match, are read by nothing.
DROP INDEX organizations_search_trgm_idx;
DROP INDEX organizations_search_fts_idx;
DROP INDEX projects_search_trgm_idx;
DROP INDEX projects_search_fts_idx;
DROP INDEX posts_search_trgm_idx;
DROP INDEX posts_search_fts_idx;
