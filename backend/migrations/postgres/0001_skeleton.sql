-- Tenancy, staff, sessions, the minimal catalog, members and memberships, audit.
-- Money: BIGINT minor units. Dates: DATE. Timestamps: TIMESTAMPTZ (microseconds).

CREATE TABLE businesses (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    currency TEXT NOT NULL,
    simulated_today DATE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE locations (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE staff_users (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'front_desk', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE staff_sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id),
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);

CREATE TABLE membership_types (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    purchase_type TEXT NOT NULL CHECK (purchase_type IN ('recurring', 'prepaid', 'benefit')),
    billing_interval TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    display_order BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, name)
);

-- Prices are versions: a change adds a row; memberships keep the version they were sold at.
CREATE TABLE membership_type_prices (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_type_id BIGINT NOT NULL REFERENCES membership_types (id),
    fee_minor BIGINT NOT NULL CHECK (fee_minor >= 0),
    initiation_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (initiation_fee_minor >= 0),
    currency TEXT NOT NULL,
    effective_from DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX membership_type_prices_type ON membership_type_prices (membership_type_id, effective_from);

CREATE TABLE members (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX members_business ON members (business_id);

CREATE TABLE memberships (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    membership_type_id BIGINT NOT NULL REFERENCES membership_types (id),
    price_id BIGINT NOT NULL REFERENCES membership_type_prices (id),
    start_date DATE NOT NULL,
    end_date DATE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX memberships_business ON memberships (business_id, start_date);

-- Append-only: nothing updates or deletes an audit event.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    actor TEXT NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id BIGINT,
    details TEXT NOT NULL DEFAULT '{}',
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_business ON audit_events (business_id, occurred_at);
