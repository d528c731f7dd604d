-- The membership lifecycle: memberships held by a member or an organization,
-- their append-only events, and the locations they apply to.
--
-- start_date and end_date are projections kept for date-range queries (the
-- anchor of the current run, and the end a cancellation or a non-renewing term
-- sets); the events are the truth and the status is computed from them.

CREATE TABLE memberships_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    member_id INTEGER REFERENCES members (id),
    organization_id INTEGER REFERENCES organizations (id),
    membership_type_id INTEGER NOT NULL REFERENCES membership_types (id),
    price_id INTEGER NOT NULL REFERENCES membership_type_prices (id),
    start_date TEXT NOT NULL,
    end_date TEXT,
    payer TEXT NOT NULL DEFAULT 'member' CHECK (payer IN ('member', 'organization', 'personal')),
    discount TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'front_desk',
    notes TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK (member_id IS NOT NULL OR organization_id IS NOT NULL)
);
INSERT INTO memberships_v2 (id, business_id, member_id, membership_type_id, price_id, start_date, end_date, created_at)
    SELECT id, business_id, member_id, membership_type_id, price_id, start_date, end_date, created_at FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_v2 RENAME TO memberships;
CREATE INDEX memberships_business ON memberships (business_id, start_date);
CREATE INDEX memberships_end ON memberships (business_id, end_date);
CREATE INDEX memberships_member ON memberships (member_id);
CREATE INDEX memberships_organization ON memberships (organization_id);

-- Append-only: a mistaken event is reversed by a new one.
CREATE TABLE membership_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    kind TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    data TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    forced INTEGER NOT NULL DEFAULT 0,
    actor TEXT NOT NULL CHECK (actor IN ('staff', 'member', 'api', 'system')),
    actor_id INTEGER,
    actor_label TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX membership_events_membership ON membership_events (membership_id, id);

-- The memberships made before events existed were sold on their start date.
INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, actor, actor_label, recorded_at)
    SELECT business_id, id, 'sold', start_date,
           '{"kind":"sold","start":"' || start_date || '","approval_required":false}',
           'system', 'the system', created_at
      FROM memberships;

CREATE TABLE membership_locations (
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    PRIMARY KEY (membership_id, location_id)
);
CREATE INDEX membership_locations_location ON membership_locations (location_id);
