-- Staff sign-in attempts, to throttle guessing: a row is written before the
-- password is checked (so concurrent guesses count too) and removed when the
-- password was right. Counted per email and per client address over 15
-- minutes; an account is locked after 10 wrong passwords, a client after 30.
CREATE TABLE sign_in_attempts (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_attempts_email ON sign_in_attempts (email, created_at);
CREATE INDEX sign_in_attempts_client ON sign_in_attempts (client, created_at);
