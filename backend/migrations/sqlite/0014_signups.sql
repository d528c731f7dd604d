-- Public signups: one row per signup, found by its form's idempotency key (a
-- refresh or double submit finds the first) and by the token of its status
-- page. Where a signup stands is computed from its membership and invoice.
CREATE TABLE signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    token TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members (id),
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    created_at TEXT NOT NULL,
    UNIQUE (business_id, idempotency_key)
);
