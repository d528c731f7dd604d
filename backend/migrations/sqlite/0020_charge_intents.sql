-- A card charge is claimed before the gateway is called: one open intent per
-- invoice (a partial unique index), so concurrent attempts from the API, the
-- staff app, the portal and the daily collection capture an invoice once.
-- The gateway is called outside any transaction with the intent's id as its
-- idempotency key; the outcome is booked afterwards and closes the intent.
-- An intent whose claim ran out (a crash between the gateway and the booking)
-- is finished by the next attempt, which asks the gateway again with the same
-- key and so moves no money twice.
CREATE TABLE charge_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    token TEXT NOT NULL,
    request_key TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    staff_user_id INTEGER REFERENCES staff_users (id),
    state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
    claimed_until TEXT NOT NULL,
    payment_id INTEGER REFERENCES payments (id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX charge_intents_key ON charge_intents (business_id, request_key);
CREATE UNIQUE INDEX charge_intents_one_open ON charge_intents (invoice_id) WHERE state = 'claimed';
