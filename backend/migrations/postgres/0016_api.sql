-- The integration API (v1).
--
-- An API key belongs to one business and acts through a staff record of its
-- own (disabled, so it can never sign in) whose name the audit trail shows.
-- Only the key's SHA-256 is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff_users (id),
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_business ON api_keys (business_id, created_at);

-- The first answer to a write sent with an Idempotency-Key, replayed for a
-- repeat with the same request. status 0 means "still running".
CREATE TABLE api_idempotency (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, idempotency_key)
);

-- The events feed: what happened in a business, numbered 1, 2, 3... in the
-- order the changes committed (the counter row is held until commit).
CREATE TABLE event_counters (
    business_id BIGINT PRIMARY KEY REFERENCES businesses (id),
    last_seq BIGINT NOT NULL
);

CREATE TABLE events (
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id BIGINT,
    data TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (business_id, seq)
);
