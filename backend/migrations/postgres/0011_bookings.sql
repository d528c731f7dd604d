-- Services (classes, appointments, rooms) with their weekly timetable, and
-- bookings of their slots. A slot's places are counted in slot_counts and
-- taken with a conditional upsert, so concurrent bookings never overbook.
CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    location_id BIGINT REFERENCES locations (id),
    name TEXT NOT NULL,
    -- The checked ServiceSpec as JSON (kind, duration, capacity, prices, timetable, ...).
    spec TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE bookings (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    service_id BIGINT NOT NULL REFERENCES services (id),
    location_id BIGINT REFERENCES locations (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    membership_id BIGINT REFERENCES memberships (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'attended', 'no_show')),
    paid_by TEXT NOT NULL CHECK (paid_by IN ('allowance', 'credits', 'money', 'free')),
    credits BIGINT NOT NULL DEFAULT 0,
    price_minor BIGINT,
    late BOOLEAN NOT NULL DEFAULT FALSE,
    invoice_id BIGINT REFERENCES invoices (id),
    booked_by TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    UNIQUE (business_id, idempotency_key)
);
CREATE INDEX bookings_slot ON bookings (service_id, starts_at);
CREATE INDEX bookings_member ON bookings (member_id, starts_at);
CREATE INDEX bookings_business_day ON bookings (business_id, starts_at);

CREATE TABLE slot_counts (
    service_id BIGINT NOT NULL REFERENCES services (id),
    starts_at TIMESTAMP NOT NULL,
    booked BIGINT NOT NULL,
    capacity BIGINT NOT NULL,
    PRIMARY KEY (service_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);

-- Uses of an included service in a period ("1 massage per month").
CREATE TABLE allowance_uses (
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    service_name TEXT NOT NULL,
    period_start DATE NOT NULL,
    used BIGINT NOT NULL,
    allowed BIGINT NOT NULL,
    PRIMARY KEY (membership_id, service_name, period_start),
    CHECK (used >= 0 AND used <= allowed)
);
