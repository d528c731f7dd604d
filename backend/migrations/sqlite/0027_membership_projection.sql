-- What lists filter and sort on, kept on each membership's row
-- (domain::lifecycle::projection): the status with its reason, the day it
-- may next change by itself, the type and price in effect, the next billing
-- date and the amount overdue. Written with every change; the daily work
-- recomputes the rows whose day has come; `server check` compares them with
-- a recomputation.
ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE memberships ADD COLUMN status_reason TEXT NOT NULL DEFAULT 'not_sold';
ALTER TABLE memberships ADD COLUMN status_changes_on TEXT;
ALTER TABLE memberships ADD COLUMN current_type_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN current_price_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN next_billing_date TEXT;
ALTER TABLE memberships ADD COLUMN overdue_minor INTEGER NOT NULL DEFAULT 0;

-- Rows made before: recomputed by the next daily work.
UPDATE memberships SET status_changes_on = '1970-01-01',
       current_type_id = membership_type_id, current_price_id = price_id;

CREATE INDEX memberships_changes ON memberships (business_id, status_changes_on);
CREATE INDEX memberships_by_status ON memberships (business_id, status, start_date, id);
CREATE INDEX memberships_by_type ON memberships (business_id, current_type_id, start_date, id);
