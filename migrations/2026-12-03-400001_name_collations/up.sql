-- Names sort by the request's language with that language's ICU rules: Kazakh puts Ә after А
-- and Қ after К, Russian puts Ё with Е, English ignores case first. Our own names for the three
-- collations, so the statements don't depend on which ICU locales initdb happened to import.
CREATE COLLATION IF NOT EXISTS "kk-KZ" (provider = icu, locale = 'kk-KZ');
CREATE COLLATION IF NOT EXISTS "ru-RU" (provider = icu, locale = 'ru-RU');
CREATE COLLATION IF NOT EXISTS "en-US" (provider = icu, locale = 'en-US');

-- One index per language, each on the name as that language shows it (its own translation,
-- else kk → ru → en, as `LocalizedText::resolve` falls back).
DROP INDEX organizations_name_idx;
CREATE INDEX organizations_name_kk_idx ON organizations ((coalesce(name->>'kk', name->>'ru', name->>'en') COLLATE "kk-KZ"), id);
CREATE INDEX organizations_name_ru_idx ON organizations ((coalesce(name->>'ru', name->>'kk', name->>'en') COLLATE "ru-RU"), id);
CREATE INDEX organizations_name_en_idx ON organizations ((coalesce(name->>'en', name->>'kk', name->>'ru') COLLATE "en-US"), id);
