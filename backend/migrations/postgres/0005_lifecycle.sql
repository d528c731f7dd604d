-- The membership lifecycle: memberships held by a member or an organization,
-- their append-only events, and the locations they apply to.
--
-- start_date and end_date are projections kept for date-range queries (the
-- anchor of the current run, and the end a cancellation or a non-renewing term
-- sets); the events are the truth and the status is computed from them.

ALTER TABLE memberships ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE memberships ADD COLUMN organization_id BIGINT REFERENCES organizations (id);
ALTER TABLE memberships ADD COLUMN payer TEXT NOT NULL DEFAULT 'member' CHECK (payer IN ('member', 'organization', 'personal'));
ALTER TABLE memberships ADD COLUMN discount TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN source TEXT NOT NULL DEFAULT 'front_desk';
ALTER TABLE memberships ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD CONSTRAINT memberships_holder CHECK (member_id IS NOT NULL OR organization_id IS NOT NULL);
CREATE INDEX memberships_end ON memberships (business_id, end_date);
CREATE INDEX memberships_member ON memberships (member_id);
CREATE INDEX memberships_organization ON memberships (organization_id);

-- Append-only: a mistaken event is reversed by a new one.
CREATE TABLE membership_events (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    kind TEXT NOT NULL,
    effective_on DATE NOT NULL,
    data TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    forced BOOLEAN NOT NULL DEFAULT FALSE,
    actor TEXT NOT NULL CHECK (actor IN ('staff', 'member', 'api', 'system')),
    actor_id BIGINT,
    actor_label TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX membership_events_membership ON membership_events (membership_id, id);

-- The memberships made before events existed were sold on their start date.
INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
    SELECT business_id, id, 'sold', start_date,
           '{"kind":"sold","start":"' || to_char(start_date, 'YYYY-MM-DD') || '","approval_required":false}',
           'system', 'the system', created_at
      FROM memberships;

CREATE TABLE membership_locations (
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    PRIMARY KEY (membership_id, location_id)
);
CREATE INDEX membership_locations_location ON membership_locations (location_id);
