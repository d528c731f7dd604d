-- How many memberships a business has by stored status and type, so that a
-- list's total is the sum of a few rows instead of a count over every
-- membership. Triggers append each change of a row's status or type to
-- membership_count_changes (no row is updated in place, so concurrent
-- writers never wait on a counter); `store::memberships::counts::compact`
-- folds the changes into membership_counts. A total is the sum over both.
CREATE TABLE membership_counts (
    business_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    type_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (business_id, status, type_id)
);

CREATE TABLE membership_count_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    type_id INTEGER NOT NULL,
    n INTEGER NOT NULL
);
CREATE INDEX membership_count_changes_business ON membership_count_changes (business_id, status, type_id);

CREATE TRIGGER memberships_counted_insert AFTER INSERT ON memberships
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    VALUES (NEW.business_id, NEW.status, NEW.current_type_id, 1);
END;

CREATE TRIGGER memberships_counted_update AFTER UPDATE OF status, current_type_id ON memberships
WHEN OLD.status <> NEW.status OR OLD.current_type_id <> NEW.current_type_id
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    VALUES (OLD.business_id, OLD.status, OLD.current_type_id, -1),
           (NEW.business_id, NEW.status, NEW.current_type_id, 1);
END;

CREATE TRIGGER memberships_counted_delete AFTER DELETE ON memberships
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    VALUES (OLD.business_id, OLD.status, OLD.current_type_id, -1);
END;

INSERT INTO membership_counts (business_id, status, type_id, n)
SELECT business_id, status, current_type_id, COUNT(*) FROM memberships
 GROUP BY business_id, status, current_type_id;
