-- Payments, refunds, account credit, cards on file, dunning settings and the
-- mail outbox. Money tables are append-only: a payment is never edited, a
-- refund is a new row, account credit is a ledger whose sum is the balance.
-- Invoices keep two projections updated in the same transaction as the rows
-- they summarise: amount_paid_minor (the sum of their allocations) and status.

ALTER TABLE businesses ADD COLUMN terms_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE businesses ADD COLUMN retry_days TEXT NOT NULL DEFAULT '1,3,7';
ALTER TABLE businesses ADD COLUMN past_due_after_days BIGINT NOT NULL DEFAULT 3;
ALTER TABLE businesses ADD COLUMN suspend_after_days BIGINT NOT NULL DEFAULT 14;
ALTER TABLE businesses ADD COLUMN credit_unused_on_cancel BOOLEAN NOT NULL DEFAULT TRUE;

-- The account billed: the member, or the organization that pays.
ALTER TABLE invoices ADD COLUMN member_id BIGINT REFERENCES members (id);
ALTER TABLE invoices ADD COLUMN organization_id BIGINT REFERENCES organizations (id);
-- Automatic charges tried, and when to try again (NULL: not scheduled).
ALTER TABLE invoices ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN next_attempt_on DATE;
-- A credit note is a negative invoice that names the invoice it corrects.
ALTER TABLE invoices ADD COLUMN credit_note_for BIGINT REFERENCES invoices (id);
ALTER TABLE invoices ADD COLUMN memo TEXT NOT NULL DEFAULT '';

UPDATE invoices SET
    organization_id = (SELECT m.organization_id FROM memberships m
                        WHERE m.id = invoices.membership_id AND (m.payer = 'organization' OR m.member_id IS NULL)),
    member_id = (SELECT m.member_id FROM memberships m
                  WHERE m.id = invoices.membership_id AND m.payer <> 'organization');
CREATE INDEX invoices_member ON invoices (member_id, due_date);
CREATE INDEX invoices_organization ON invoices (organization_id, due_date);
CREATE INDEX invoices_status ON invoices (business_id, status, due_date);

-- One current card per account; a removed card keeps its row.
CREATE TABLE cards (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    member_id BIGINT REFERENCES members (id),
    organization_id BIGINT REFERENCES organizations (id),
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month BIGINT NOT NULL,
    exp_year BIGINT NOT NULL,
    token TEXT NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ,
    CHECK ((member_id IS NULL) <> (organization_id IS NULL))
);
CREATE UNIQUE INDEX cards_member_current ON cards (member_id) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX cards_organization_current ON cards (organization_id) WHERE removed_at IS NULL;

-- Money in, or a charge that failed. The key makes a retried request the same payment.
CREATE TABLE payments (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    member_id BIGINT REFERENCES members (id),
    organization_id BIGINT REFERENCES organizations (id),
    invoice_id BIGINT REFERENCES invoices (id),
    method TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    paid_on DATE NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    failure TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    staff_user_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, idempotency_key)
);
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE INDEX payments_member ON payments (member_id);
CREATE INDEX payments_organization ON payments (organization_id);

-- Account credit: overpayments and credit notes add, settling invoices and
-- refunds take away. The balance is the sum and is never negative.
CREATE TABLE account_entries (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    member_id BIGINT REFERENCES members (id),
    organization_id BIGINT REFERENCES organizations (id),
    kind TEXT NOT NULL CHECK (kind IN ('overpayment', 'credit_note', 'applied', 'refunded')),
    amount_minor BIGINT NOT NULL,
    payment_id BIGINT REFERENCES payments (id),
    invoice_id BIGINT REFERENCES invoices (id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_entries_member ON account_entries (member_id);
CREATE INDEX account_entries_organization ON account_entries (organization_id);

-- What settled an invoice: part of a payment, or account credit.
CREATE TABLE payment_allocations (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    payment_id BIGINT REFERENCES payments (id),
    account_entry_id BIGINT REFERENCES account_entries (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((payment_id IS NULL) <> (account_entry_id IS NULL))
);
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id);
CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id);

CREATE TABLE refunds (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    payment_id BIGINT NOT NULL REFERENCES payments (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason TEXT NOT NULL,
    refunded_on DATE NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL,
    staff_user_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (business_id, idempotency_key)
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Mail waiting to be sent (receipts, invoices, dunning notices). Append-only
-- but for sent_at.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    invoice_id BIGINT REFERENCES invoices (id),
    membership_id BIGINT REFERENCES memberships (id),
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_business ON outbox (business_id, id);
