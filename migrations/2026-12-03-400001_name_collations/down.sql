DROP INDEX organizations_name_en_idx;
DROP INDEX organizations_name_ru_idx;
DROP INDEX organizations_name_kk_idx;
CREATE INDEX organizations_name_idx ON organizations ((lower(coalesce(name->>'kk', name->>'ru', name->>'en'))), id);
DROP COLLATION IF EXISTS "en-US";
DROP COLLATION IF EXISTS "ru-RU";
DROP COLLATION IF EXISTS "kk-KZ";
