-- Public signups: one row per signup, found by its form's idempotency key (a
-- refresh or double submit finds the first) and by the token of its status
-- page. Where a signup stands is computed from its membership and invoice.
CREATE TABLE signups (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    token TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, idempotency_key)
);
