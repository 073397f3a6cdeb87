DROP INDEX nominations_unique_identity;
DROP TRIGGER nominations_identity ON nominations;
DROP FUNCTION nominations_identity();
ALTER TABLE nominations DROP COLUMN nominee_identity;
DROP FUNCTION nominee_identity_of(text, bigint, bigint, text, text);
DROP FUNCTION nominee_skeleton(text);
CREATE UNIQUE INDEX nominations_unique_nominee ON nominations (category_id, nominee_key)
    WHERE status IN ('PENDING', 'APPROVED');
