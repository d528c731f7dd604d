-- The work of a billing run, cut into chunks of memberships (ids first_id to
-- last_id, the last chunk open-ended) that any server may claim: a claim is a
-- lease (claimed_by, claimed_until) taken by a conditional update; a chunk is
-- deleted in the transaction that writes its invoices and adds its counts to
-- the run's row. A run is done when it has no chunk left.
CREATE TABLE billing_run_chunks (
    run_id INTEGER NOT NULL REFERENCES billing_runs (id),
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    PRIMARY KEY (run_id, first_id)
);
