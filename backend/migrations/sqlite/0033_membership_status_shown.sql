-- The rest of the status a list shows, kept with the projection of 0027
-- (domain::lifecycle::projection): since and until when, the explanation
-- and whether staff locked the membership. A list page then reads its rows
-- alone, without the events, invoices and catalog its statuses come from;
-- a membership's own page still explains its status from the events, and
-- `server check` compares these columns with a recomputation too.
ALTER TABLE memberships ADD COLUMN status_since TEXT;
ALTER TABLE memberships ADD COLUMN status_until TEXT;
ALTER TABLE memberships ADD COLUMN status_explanation TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;

-- Rows made before: recomputed by the next daily work (or the next list).
UPDATE memberships SET status_changes_on = '1970-01-01';
