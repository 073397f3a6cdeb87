CREATE INDEX organizations_search_trgm_idx ON organizations USING gin (search_text gin_trgm_ops);
CREATE INDEX organizations_search_fts_idx ON organizations USING gin (to_tsvector('simple', search_text));
CREATE INDEX projects_search_trgm_idx ON projects USING gin (search_text gin_trgm_ops);
CREATE INDEX projects_search_fts_idx ON projects USING gin (to_tsvector('simple', search_text));
CREATE INDEX posts_search_trgm_idx ON posts USING gin (search_text gin_trgm_ops);
CREATE INDEX posts_search_fts_idx ON posts USING gin (to_tsvector('simple', search_text));
DROP INDEX organizations_search_gist_idx;
DROP INDEX projects_search_gist_idx;
DROP INDEX posts_search_gist_idx;
