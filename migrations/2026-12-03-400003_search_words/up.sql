-- Typo tolerance: the words the searchable texts contain (folded, as `search_text` holds them),
-- so a query word that starts no word at all ("валонтер") can be read as the nearest ones by
-- edit distance ("волонтерлер", "волонтеров"). Words are only added: a word whose last text
-- changed still corrects to itself and then finds nothing, which costs nothing.
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE TABLE search_words (
    word text PRIMARY KEY CHECK (length(word) BETWEEN 3 AND 40)
);
-- The prefix test (`word LIKE 'волон%'`) whatever the database's collation.
CREATE INDEX search_words_prefix_idx ON search_words (word text_pattern_ops);

CREATE FUNCTION search_words_of(t text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT DISTINCT w FROM regexp_split_to_table(t, '[^[:alnum:]]+') w WHERE length(w) BETWEEN 3 AND 40
$$;

CREATE FUNCTION add_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word) SELECT search_words_of(NEW.search_text) ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER organizations_search_words_insert AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION add_search_words();
CREATE TRIGGER organizations_search_words_update AFTER UPDATE ON organizations
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION add_search_words();
CREATE TRIGGER projects_search_words_insert AFTER INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION add_search_words();
CREATE TRIGGER projects_search_words_update AFTER UPDATE ON projects
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION add_search_words();
CREATE TRIGGER posts_search_words_insert AFTER INSERT ON posts
    FOR EACH ROW EXECUTE FUNCTION add_search_words();
CREATE TRIGGER posts_search_words_update AFTER UPDATE ON posts
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION add_search_words();

INSERT INTO search_words (word)
SELECT search_words_of(search_text) FROM organizations
UNION SELECT search_words_of(search_text) FROM projects
UNION SELECT search_words_of(search_text) FROM posts
ON CONFLICT DO NOTHING;
