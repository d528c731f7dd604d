-- Services (classes, appointments, rooms) with their weekly timetable, and
-- bookings of their slots. A slot's places are counted in slot_counts and
-- taken with a conditional upsert, so concurrent bookings never overbook.
CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    location_id INTEGER REFERENCES locations (id),
    name TEXT NOT NULL,
    -- The checked ServiceSpec as JSON (kind, duration, capacity, prices, timetable, ...).
    spec TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    UNIQUE (business_id, name)
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    location_id INTEGER REFERENCES locations (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    membership_id INTEGER REFERENCES memberships (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'attended', 'no_show')),
    paid_by TEXT NOT NULL CHECK (paid_by IN ('allowance', 'credits', 'money', 'free')),
    credits INTEGER NOT NULL DEFAULT 0,
    price_minor INTEGER,
    late BOOLEAN NOT NULL DEFAULT FALSE,
    invoice_id INTEGER REFERENCES invoices (id),
    booked_by TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    UNIQUE (business_id, idempotency_key)
);
CREATE INDEX bookings_slot ON bookings (service_id, starts_at);
CREATE INDEX bookings_member ON bookings (member_id, starts_at);
CREATE INDEX bookings_business_day ON bookings (business_id, starts_at);

CREATE TABLE slot_counts (
    service_id INTEGER NOT NULL REFERENCES services (id),
    starts_at TEXT NOT NULL,
    booked INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    PRIMARY KEY (service_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);

-- Uses of an included service in a period ("1 massage per month").
CREATE TABLE allowance_uses (
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    service_name TEXT NOT NULL,
    period_start TEXT NOT NULL,
    used INTEGER NOT NULL,
    allowed INTEGER NOT NULL,
    PRIMARY KEY (membership_id, service_name, period_start),
    CHECK (used >= 0 AND used <= allowed)
);
