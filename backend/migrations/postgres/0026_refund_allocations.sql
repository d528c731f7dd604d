-- Which invoices a refund gave money back for: the part of a refund that
-- did not come out of account credit, spread over the invoices the refunded
-- payment paid, oldest allocation first. Append-only; an invoice's refunded
-- amount is the sum of its rows, so lists can say "Refunded" or "Partly
-- refunded".
CREATE TABLE refund_allocations (
    id BIGSERIAL PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    refund_id BIGINT NOT NULL REFERENCES refunds (id),
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refund_allocations_invoice ON refund_allocations (invoice_id);

-- Refunds made before: each against the first invoice its payment paid.
INSERT INTO refund_allocations (business_id, refund_id, invoice_id, amount_minor, created_at)
SELECT r.business_id, r.id, a.invoice_id, LEAST(r.amount_minor, a.amount_minor), r.created_at
  FROM refunds r
  JOIN payment_allocations a ON a.id = (SELECT MIN(id) FROM payment_allocations WHERE payment_id = r.payment_id);
