-- Invoices and their lines. A line's key says what it charges for; the
-- unique (membership, key, seq) index lets a key be billed once and then only
-- corrected (seq 1, 2, ...), so a repeated or raced run can never bill twice.
-- Numbers are assigned per business from a counter in the same transaction.

ALTER TABLE businesses ADD COLUMN next_invoice_number BIGINT NOT NULL DEFAULT 1;

CREATE TABLE invoices (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    number BIGINT NOT NULL,
    billing_date DATE NOT NULL,
    due_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    amount_paid_minor BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, number)
);
CREATE INDEX invoices_membership ON invoices (membership_id, billing_date);
CREATE INDEX invoices_business ON invoices (business_id, billing_date);

-- Append-only.
CREATE TABLE invoice_lines (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    line_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    period_start DATE,
    period_end DATE,
    amount_minor BIGINT NOT NULL,
    explanation TEXT NOT NULL DEFAULT '',
    UNIQUE (membership_id, line_key, seq)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);
