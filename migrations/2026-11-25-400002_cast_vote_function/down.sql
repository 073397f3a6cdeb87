DROP FUNCTION cast_vote(bigint, bigint, text, timestamptz);
