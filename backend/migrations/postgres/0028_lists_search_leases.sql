-- The staff invoice list's order (newest billing date, then number) from an index.
CREATE INDEX invoices_newest ON invoices (business_id, billing_date, number);

-- The last four digits of a member's phone, so that a desk search by the end
-- of a number ("4512") is an index lookup, not a scan of every phone.
ALTER TABLE members ADD COLUMN phone_end TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE members SET phone_end = right(phone_digits, 4);
CREATE INDEX members_phone_end ON members (business_id, phone_end);

-- Who does a business's daily work, and the business date it was last done
-- for. A server claims a business by a conditional update of its row
-- (`held_until` passed or empty), so that of several servers on one
-- database exactly one does each day's work; it writes `done_on` when done
-- and counts the times the work was done in `runs`.
CREATE TABLE day_work (
    business_id BIGINT PRIMARY KEY REFERENCES businesses (id),
    held_by TEXT NOT NULL DEFAULT '',
    held_until TIMESTAMPTZ,
    done_on DATE,
    done_at TIMESTAMPTZ,
    runs BIGINT NOT NULL DEFAULT 0
);
