-- The member portal: one-time sign-in codes and portal sessions. A code is
-- stored for every request, whether or not the email belongs to a member, so
-- the answers and the rate limits never tell the two apart. Only hashes of
-- codes and session tokens are kept.
CREATE TABLE portal_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX portal_codes_email ON portal_codes (email, created_at);
CREATE INDEX portal_codes_client ON portal_codes (client, created_at);

-- A session belongs to the email that proved itself; the account (a member of
-- one business) is chosen when the email has several.
CREATE TABLE portal_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    business_id INTEGER REFERENCES businesses (id),
    member_id INTEGER REFERENCES members (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX members_email_any ON members (email_lc);
