-- How many memberships a business has by stored status and type, so that a
-- list's total is the sum of a few rows instead of a count over every
-- membership. Triggers append each change of a row's status or type to
-- membership_count_changes (no row is updated in place, so concurrent
-- writers never wait on a counter, and cannot deadlock on two);
-- `store::memberships::counts::compact` folds the changes into
-- membership_counts. A total is the sum over both. The triggers run once
-- per statement over its rows (a bulk insert appends a row per status and
-- type, not per membership).
CREATE TABLE membership_counts (
    business_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    type_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (business_id, status, type_id)
);

CREATE TABLE membership_count_changes (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    type_id BIGINT NOT NULL,
    n BIGINT NOT NULL
);
CREATE INDEX membership_count_changes_business ON membership_count_changes (business_id, status, type_id);

CREATE FUNCTION memberships_counted_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    SELECT business_id, status, current_type_id, COUNT(*) FROM added
     GROUP BY business_id, status, current_type_id;
    RETURN NULL;
END $$;

CREATE FUNCTION memberships_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    SELECT business_id, status, type_id, SUM(n) FROM (
        SELECT business_id, status, current_type_id AS type_id, -1 AS n FROM before_rows
        UNION ALL
        SELECT business_id, status, current_type_id, 1 FROM after_rows
    ) AS moved
     GROUP BY business_id, status, type_id
    HAVING SUM(n) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION memberships_counted_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO membership_count_changes (business_id, status, type_id, n)
    SELECT business_id, status, current_type_id, -COUNT(*) FROM removed
     GROUP BY business_id, status, current_type_id;
    RETURN NULL;
END $$;

CREATE TRIGGER memberships_counted_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted_insert();
CREATE TRIGGER memberships_counted_update AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted_update();
CREATE TRIGGER memberships_counted_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION memberships_counted_delete();

INSERT INTO membership_counts (business_id, status, type_id, n)
SELECT business_id, status, current_type_id, COUNT(*) FROM memberships
 GROUP BY business_id, status, current_type_id;
