-- A billing run beats while it works (at its start and after every batch).
-- A run whose last beat is older than its lease was interrupted (the server
-- stopped or crashed): it is shown as such and no longer blocks a new run.
ALTER TABLE billing_runs ADD COLUMN heartbeat_at TIMESTAMPTZ;
UPDATE billing_runs SET heartbeat_at = started_at;
