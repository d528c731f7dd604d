-- How many members a business has by status (active, archived), kept as
-- membership_counts keeps memberships (0029): triggers append each change to
-- member_count_changes, `store::memberships::counts::compact` folds them into
-- member_counts, and a total is the sum over both: the members list's total
-- without a count over every member.
CREATE TABLE member_counts (
    business_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (business_id, status)
);

CREATE TABLE member_count_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL
);
CREATE INDEX member_count_changes_business ON member_count_changes (business_id, status);

CREATE TRIGGER members_counted_insert AFTER INSERT ON members
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    VALUES (NEW.business_id, NEW.status, 1);
END;

CREATE TRIGGER members_counted_update AFTER UPDATE OF status, business_id ON members
WHEN OLD.status <> NEW.status OR OLD.business_id <> NEW.business_id
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    VALUES (OLD.business_id, OLD.status, -1),
           (NEW.business_id, NEW.status, 1);
END;

CREATE TRIGGER members_counted_delete AFTER DELETE ON members
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    VALUES (OLD.business_id, OLD.status, -1);
END;

INSERT INTO member_counts (business_id, status, n)
SELECT business_id, status, COUNT(*) FROM members GROUP BY business_id, status;
