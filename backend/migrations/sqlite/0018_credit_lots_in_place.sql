-- A lot's remainder changes on every spend. Indexing it made each spend
-- rewrite an index entry as well as the row; the lots are found by their
-- membership (a handful each), so the index names the membership only.
DROP INDEX credit_lots_membership;
CREATE INDEX credit_lots_membership ON credit_lots (membership_id);

-- The entries of a membership are found through its unique
-- (membership_id, entry_key) index; a second index on (membership_id, id)
-- only cost every entry one more index write.
DROP INDEX credit_entries_membership;
