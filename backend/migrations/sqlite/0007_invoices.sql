-- Invoices and their lines. A line's key says what it charges for; the
-- unique (membership, key, seq) index lets a key be billed once and then only
-- corrected (seq 1, 2, ...), so a repeated or raced run can never bill twice.
-- Numbers are assigned per business from a counter in the same transaction.

ALTER TABLE businesses ADD COLUMN next_invoice_number INTEGER NOT NULL DEFAULT 1;

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    number INTEGER NOT NULL,
    billing_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    amount_paid_minor INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (business_id, number)
);
CREATE INDEX invoices_membership ON invoices (membership_id, billing_date);
CREATE INDEX invoices_business ON invoices (business_id, billing_date);

-- Append-only.
CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    membership_id INTEGER NOT NULL REFERENCES memberships (id),
    line_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    period_start TEXT,
    period_end TEXT,
    amount_minor INTEGER NOT NULL,
    explanation TEXT NOT NULL DEFAULT '',
    UNIQUE (membership_id, line_key, seq)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);
