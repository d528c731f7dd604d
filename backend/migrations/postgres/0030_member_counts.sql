-- How many members a business has by status (active, archived), kept as
-- membership_counts keeps memberships (0029): statement-level triggers append
-- each statement's changes to member_count_changes,
-- `store::memberships::counts::compact` folds them into member_counts, and a
-- total is the sum over both: the members list's total without a count over
-- every member.
CREATE TABLE member_counts (
    business_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (business_id, status)
);

CREATE TABLE member_count_changes (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL
);
CREATE INDEX member_count_changes_business ON member_count_changes (business_id, status);

CREATE FUNCTION members_counted_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    SELECT business_id, status, COUNT(*) FROM added GROUP BY business_id, status;
    RETURN NULL;
END $$;

CREATE FUNCTION members_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    SELECT business_id, status, SUM(n) FROM (
        SELECT business_id, status, -1 AS n FROM before_rows
        UNION ALL
        SELECT business_id, status, 1 FROM after_rows
    ) AS moved
     GROUP BY business_id, status
    HAVING SUM(n) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION members_counted_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_count_changes (business_id, status, n)
    SELECT business_id, status, -COUNT(*) FROM removed GROUP BY business_id, status;
    RETURN NULL;
END $$;

CREATE TRIGGER members_counted_insert AFTER INSERT ON members
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION members_counted_insert();
CREATE TRIGGER members_counted_update AFTER UPDATE ON members
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION members_counted_update();
CREATE TRIGGER members_counted_delete AFTER DELETE ON members
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION members_counted_delete();

INSERT INTO member_counts (business_id, status, n)
SELECT business_id, status, COUNT(*) FROM members GROUP BY business_id, status;
