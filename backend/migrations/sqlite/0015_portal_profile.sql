-- Each business's portal has its own address (/portal/sign-in/{slug}); the
-- slug is made from the name when a business is created. Businesses made
-- before this migration get one from their id.
ALTER TABLE businesses ADD COLUMN slug TEXT;
UPDATE businesses SET slug = 'business-' || id WHERE slug IS NULL;
CREATE UNIQUE INDEX businesses_slug ON businesses (slug);

-- A member's request to change their email: a code goes to the new address
-- and the change happens only when it comes back. Only the code's hash is kept.
CREATE TABLE portal_email_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id INTEGER NOT NULL REFERENCES businesses (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    new_email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX portal_email_changes_member ON portal_email_changes (member_id, created_at);
