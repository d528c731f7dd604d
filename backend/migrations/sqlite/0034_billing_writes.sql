-- (business_id, billing_date) is the head of invoices_newest
-- (business_id, billing_date, number), which serves every query it served:
-- one index fewer to write for each invoice. (PostgreSQL's 0034 also drops
-- foreign-key checks that cost half of each billing insert there; SQLite,
-- which has one writer at a time and checks a key by a cheap lookup in the
-- same file, keeps them: dropping one would rebuild the table.)
DROP INDEX invoices_business;
