-- Recurring services (visits a membership includes at a service address),
-- the addresses they are delivered to, and the visits generated a year ahead.
CREATE TABLE recurring_services (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    name TEXT NOT NULL,
    -- The checked RecurringServiceSpec as JSON.
    spec TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE service_addresses (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    recurring_service_id BIGINT NOT NULL REFERENCES recurring_services (id),
    address TEXT NOT NULL,
    first_due DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE service_visits (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    service_address_id BIGINT NOT NULL REFERENCES service_addresses (id),
    due_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('not_scheduled', 'scheduled', 'completed', 'cancelled')),
    scheduled_at TIMESTAMP,
    changed_at TIMESTAMPTZ NOT NULL,
    UNIQUE (service_address_id, due_on)
);
CREATE INDEX service_visits_business ON service_visits (business_id, due_on);
