-- Billing runs: who started one, for which date, and how far it got. Each
-- batch of memberships updates its row in the transaction that writes the
-- batch's invoices, so the progress shown is exactly what is committed.
CREATE TABLE billing_runs (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    run_date DATE NOT NULL,
    started_by TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    total BIGINT NOT NULL,
    done BIGINT NOT NULL DEFAULT 0,
    invoices BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    -- JSON: [[membership id, message], ...]
    failures TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX billing_runs_business ON billing_runs (business_id, id);

-- The run reads a batch's lines by membership.
CREATE INDEX invoice_lines_membership ON invoice_lines (business_id, membership_id);

-- The run walks a business's memberships in id order, a batch at a time.
CREATE INDEX memberships_business_id ON memberships (business_id, id);
