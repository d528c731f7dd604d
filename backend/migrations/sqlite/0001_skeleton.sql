-- Tenancy, staff, sessions, the minimal catalog, members and memberships, audit.
-- Money: INTEGER minor units. Dates: TEXT YYYY-MM-DD. Timestamps: RFC 3339 TEXT bound from Rust.

CREATE TABLE businesses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    currency TEXT NOT NULL,
    simulated_today TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE staff_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'front_desk', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE staff_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    staff_user_id INTEGER NOT NULL REFERENCES staff_users (id),
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);

CREATE TABLE membership_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    purchase_type TEXT NOT NULL CHECK (purchase_type IN ('recurring', 'prepaid', 'benefit')),
    billing_interval TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    display_order INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (business_id, name)
);

-- Prices are versions: a change adds a row; memberships keep the version they were sold at.
CREATE TABLE membership_type_prices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    membership_type_id INTEGER NOT NULL REFERENCES membership_types (id),
    fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
    initiation_fee_minor INTEGER NOT NULL DEFAULT 0 CHECK (initiation_fee_minor >= 0),
    currency TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX membership_type_prices_type ON membership_type_prices (membership_type_id, effective_from);

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX members_business ON members (business_id);

CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    membership_type_id INTEGER NOT NULL REFERENCES membership_types (id),
    price_id INTEGER NOT NULL REFERENCES membership_type_prices (id),
    start_date TEXT NOT NULL,
    end_date TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX memberships_business ON memberships (business_id, start_date);

-- Append-only: nothing updates or deletes an audit event.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    actor TEXT NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}',
    occurred_at TEXT NOT NULL
);
CREATE INDEX audit_events_business ON audit_events (business_id, occurred_at);
