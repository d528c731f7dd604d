-- Nothing to change on SQLite: every SQLite index already ends in the rowid
-- (the id), which is what PostgreSQL's migration 0032 adds to its indexes.
SELECT 1;
