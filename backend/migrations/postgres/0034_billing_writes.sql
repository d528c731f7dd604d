-- A billing run writes an invoice, its line and its mail for every
-- membership; at 1,000,000 memberships half of each insert's time went to
-- foreign-key checks, not to the rows. PostgreSQL checks a foreign key row
-- by row with `SELECT ... FOR KEY SHARE` on the referenced row, so every
-- invoice, line and mail also locked the one row of its business: with two
-- servers billing at once, both lock it together, which PostgreSQL records
-- as a shared multixact for each pair of rows. Dropped here are the checks
-- another key of the same row already implies, or that guard nothing our
-- code could get wrong:
-- * `business_id` of invoices, invoice lines and mails: the tenancy column,
--   always the business the writer loaded in the same transaction (a
--   business is never deleted); the row's membership, invoice and member
--   keys stay checked.
-- * `membership_id` of invoice lines: a line is written with its invoice
--   (checked by `invoice_id`), whose membership it copies.
ALTER TABLE invoices DROP CONSTRAINT invoices_business_id_fkey;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_business_id_fkey;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_membership_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT outbox_business_id_fkey;

-- (business_id, billing_date) is the head of invoices_newest
-- (business_id, billing_date, number), which serves every query it served:
-- one index fewer to write for each invoice.
DROP INDEX invoices_business;
