-- A sign-in code is mailed by each business the email belongs to, each its
-- own code, and signs in only to that business: a code is read by whoever
-- reads the channel it went through (that business's outbox shows it to its
-- staff when no mail server is set up), so it proves nothing elsewhere.
-- portal_codes stays the request (limits, wrong guesses, single use); the
-- codes it sent are here.
CREATE TABLE portal_code_businesses (
    code_id BIGINT NOT NULL REFERENCES portal_codes (id),
    business_id BIGINT NOT NULL REFERENCES businesses (id),
    code_hash TEXT NOT NULL,
    PRIMARY KEY (code_id, business_id)
);

-- A portal session reaches only the accounts of the business its code came
-- from. Sessions started before this rule had no such bound: they end.
ALTER TABLE portal_sessions ADD COLUMN scope_business_id BIGINT REFERENCES businesses (id);
UPDATE portal_sessions SET ended_at = last_seen_at WHERE ended_at IS NULL;
