-- The "same nominee twice" rule by identity instead of by name: the same project or organization
-- (by id), or the same person (or unlinked project/organization) by a folded name plus country.
-- The old index refused a person who shares a project's name and let one project in under three
-- names. The rule lives here, once: a trigger fills the column on every insert (through the API,
-- the demo seed or plain SQL), and the API asks `nominee_identity_of` before it inserts so it can
-- name the nomination a duplicate runs into.
ALTER TABLE nominations ADD COLUMN nominee_identity text;

-- A person's name folded so that spellings of one name meet: case, spaces and punctuation, ё/е,
-- the Kazakh letters (and their Latin-alphabet forms), Cyrillic transliterated to Latin, the
-- common variants of Latin spelling (y/i, kh/h, x/ks, j/zh, c/k, ie/e, doubled letters) and word
-- order ("Бекова Айгерім" is "Aigerim Bekova").
CREATE FUNCTION nominee_skeleton(name text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := lower(name);
BEGIN
    s := replace(s, 'щ', 'shch');
    s := replace(s, 'ж', 'zh');
    s := replace(s, 'ц', 'ts');
    s := replace(s, 'ч', 'ch');
    s := replace(s, 'ç', 'ch');
    s := replace(s, 'ш', 'sh');
    s := replace(s, 'ş', 'sh');
    s := replace(s, 'ю', 'iu');
    s := replace(s, 'я', 'ia');
    s := translate(s, 'аәäáàâбвгғğдеёэéèêëзийіыıíïкқлмнңñоөöóпрстуұүūüúфхһъь',
                      'aaaaaabvgggdeeeeeeeziiiiiiikklmnnnooooprstuuuuuufhh');
    -- Punctuation apart (the classes below are ASCII-only here): letters of other scripts stay.
    s := translate(s, '«»“”„‘’—–…№', '           ');
    s := btrim(regexp_replace(s, '[[:space:][:punct:]]+', ' ', 'g'));
    s := replace(s, 'kh', 'h');
    s := replace(s, 'x', 'ks');
    s := replace(s, 'w', 'v');
    s := replace(s, 'q', 'k');
    s := replace(s, 'j', 'zh');
    s := replace(s, 'y', 'i');
    s := regexp_replace(s, 'c(?!h)', 'k', 'g');
    s := replace(s, 'ie', 'e');
    -- Doubled letters, not digits: "Nominee 11" is not "Nominee 1".
    s := regexp_replace(s, '([a-z])\1+', '\1', 'g');
    RETURN array_to_string(ARRAY(SELECT w FROM unnest(string_to_array(s, ' ')) w
                                 WHERE w <> '' ORDER BY w COLLATE "C"), ' ');
END $$;


-- A linked project or organization by its id whatever the name says; anyone else by kind,
-- country and folded name, so a person who shares a project's name is someone else.
CREATE FUNCTION nominee_identity_of(kind text, project_id bigint, organization_id bigint,
                                    country text, name text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN project_id IS NOT NULL THEN 'project:' || project_id
        WHEN organization_id IS NOT NULL THEN 'organization:' || organization_id
        ELSE lower(kind) || ':' || country || ':' || nominee_skeleton(name)
    END
$$;

-- Not on project_id/organization_id: their ON DELETE SET NULL must not turn a nomination of a
-- deleted project into someone else.
CREATE FUNCTION nominations_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.nominee_identity := nominee_identity_of(NEW.nominee_kind, NEW.project_id,
                                                NEW.organization_id, NEW.country, NEW.nominee_name);
    RETURN NEW;
END $$;
CREATE TRIGGER nominations_identity BEFORE INSERT OR UPDATE OF nominee_name, nominee_kind, country
    ON nominations FOR EACH ROW EXECUTE FUNCTION nominations_identity();

UPDATE nominations SET nominee_identity = nominee_identity_of(nominee_kind, project_id,
                                                              organization_id, country, nominee_name);

-- Rows the new rule finds to be the same nominee as an earlier live one keep their status; they
-- only stop blocking each other (a moderator decides them as before).
UPDATE nominations n SET nominee_identity = n.nominee_identity || ':' || n.id
FROM (SELECT id, row_number() OVER (PARTITION BY category_id, nominee_identity ORDER BY id) AS rn
      FROM nominations WHERE status IN ('PENDING', 'APPROVED')) d
WHERE d.id = n.id AND d.rn > 1;

ALTER TABLE nominations ALTER COLUMN nominee_identity SET NOT NULL;
DROP INDEX nominations_unique_nominee;
CREATE UNIQUE INDEX nominations_unique_identity ON nominations (category_id, nominee_identity)
    WHERE status IN ('PENDING', 'APPROVED');
