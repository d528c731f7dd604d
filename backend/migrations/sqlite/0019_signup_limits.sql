-- Public signups are limited per client address (the address the server
-- believes: the connection's, or its trusted proxy's X-Forwarded-For entry).
ALTER TABLE signups ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
CREATE INDEX signups_client ON signups (client_address, created_at);
