-- Sending the outbox by SMTP (when the server has TESSERA_SMTP_URL): each
-- message is claimed by one sender for a while, sent once (sent_at), and a
-- failed attempt is counted with its error and the time of the next try.
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
