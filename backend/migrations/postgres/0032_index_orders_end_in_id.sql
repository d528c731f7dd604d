-- A PostgreSQL index does not end in the row's id the way every SQLite index
-- ends in its rowid, so a list ordered by (column, id) sorted every row that
-- shares the column's value: the desk's search for "ada" sorted the 83,000
-- Adas of a 1,000,000-member business (160 ms) to keep the first 200. These
-- indexes end in id, as their lists order (members by name, email, phone and
-- its end; memberships newest first).
DROP INDEX members_first_name;
CREATE INDEX members_first_name ON members (business_id, first_name_lc, id);
DROP INDEX members_last_name;
CREATE INDEX members_last_name ON members (business_id, last_name_lc, id);
DROP INDEX members_email;
CREATE INDEX members_email ON members (business_id, email_lc, id);
DROP INDEX members_phone;
CREATE INDEX members_phone ON members (business_id, phone_digits, id);
DROP INDEX members_phone_end;
CREATE INDEX members_phone_end ON members (business_id, phone_end, id);
DROP INDEX memberships_business;
CREATE INDEX memberships_business ON memberships (business_id, start_date, id);
