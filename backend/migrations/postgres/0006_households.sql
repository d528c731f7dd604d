-- Family members on group memberships, members merged into another, and
-- deleted organizations (hidden, their history kept).
-- Removing a family member sets removed_on: the history stays.

CREATE TABLE membership_members (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    added_on DATE NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    removed_on DATE,
    removed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX membership_members_current ON membership_members (membership_id, member_id) WHERE removed_at IS NULL;
CREATE INDEX membership_members_member ON membership_members (member_id);

ALTER TABLE members ADD COLUMN merged_into BIGINT REFERENCES members (id);

ALTER TABLE organizations ADD COLUMN deleted_at TIMESTAMPTZ;
