-- Credits: an append-only ledger per membership. An entry with no lot_id and
-- a positive amount is a lot (a grant, carry-over, positive adjustment or a
-- reversal); every other entry takes from (or gives back to) the lot it names.
-- The balance row is kept in the same transaction as each entry and is
-- debited with a conditional UPDATE, so it never goes below zero.
CREATE TABLE credit_entries (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'carry_over', 'expire', 'adjust', 'redeem', 'reverse')),
    amount BIGINT NOT NULL CHECK (amount <> 0),
    lot_id BIGINT REFERENCES credit_entries (id),
    period_start DATE,
    expires_on DATE,
    effective_on DATE NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    actor_label TEXT NOT NULL,
    staff_user_id BIGINT,
    booking_id BIGINT,
    entry_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (membership_id, entry_key)
);
CREATE INDEX credit_entries_membership ON credit_entries (membership_id, id);

CREATE TABLE credit_balances (
    membership_id BIGINT PRIMARY KEY REFERENCES memberships (id),
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    balance BIGINT NOT NULL CHECK (balance >= 0)
);

-- What is left of each lot: a projection of the entries, kept in the same
-- transaction as each of them (like the balance), so spending reads the lots
-- without summing the history.
CREATE TABLE credit_lots (
    entry_id BIGINT PRIMARY KEY REFERENCES credit_entries (id),
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    kind TEXT NOT NULL,
    remaining BIGINT NOT NULL CHECK (remaining >= 0),
    expires_on DATE,
    period_start DATE
);
CREATE INDEX credit_lots_membership ON credit_lots (membership_id, remaining);

-- Front desk may take away at most this many credits at once; managers any.
ALTER TABLE businesses ADD COLUMN credit_adjust_limit BIGINT NOT NULL DEFAULT 5;
