-- Organizations and the members they authorize. Removing an authorization sets
-- removed_at: the history stays.

CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    billing_address TEXT NOT NULL DEFAULT '',
    max_members BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE organization_members (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    added_at TIMESTAMPTZ NOT NULL,
    added_on DATE NOT NULL,
    added_by BIGINT,
    removed_at TIMESTAMPTZ,
    removed_by BIGINT
);
CREATE UNIQUE INDEX organization_members_current ON organization_members (organization_id, member_id) WHERE removed_at IS NULL;
CREATE INDEX organization_members_member ON organization_members (member_id);
