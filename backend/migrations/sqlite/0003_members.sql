-- Member profiles and search. The *_lc and phone_digits columns are kept by
-- the backend so that every search is an index range, not a scan.

ALTER TABLE businesses ADD COLUMN next_member_number INTEGER NOT NULL DEFAULT 1001;

ALTER TABLE members ADD COLUMN member_number INTEGER;
ALTER TABLE members ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN date_of_birth TEXT;
ALTER TABLE members ADD COLUMN member_type TEXT;
ALTER TABLE members ADD COLUMN home_location_id INTEGER REFERENCES locations (id);
ALTER TABLE members ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN marketing_consent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
-- Byte-wise ("C") collation, as SQLite compares: prefix searches are index ranges
-- [prefix, prefix || U+10FFFF) and mean the same on both databases.
ALTER TABLE members ADD COLUMN first_name_lc TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN last_name_lc TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN email_lc TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN phone_digits TEXT NOT NULL DEFAULT '';

UPDATE members SET member_number = 1000 + id, first_name_lc = LOWER(first_name), last_name_lc = LOWER(last_name), email = LOWER(email), email_lc = LOWER(email);
UPDATE businesses SET next_member_number = COALESCE((SELECT MAX(member_number) FROM members WHERE members.business_id = businesses.id), 1000) + 1;

CREATE UNIQUE INDEX members_number ON members (business_id, member_number);
CREATE INDEX members_first_name ON members (business_id, first_name_lc);
CREATE INDEX members_last_name ON members (business_id, last_name_lc);
CREATE INDEX members_email ON members (business_id, email_lc);
CREATE INDEX members_phone ON members (business_id, phone_digits);
