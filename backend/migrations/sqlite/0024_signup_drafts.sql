-- The details a visitor typed on a join page, kept on the server between the
-- details step and the preview: the page's address carries only the draft's
-- token, never a name, email or phone (addresses end up in logs, histories
-- and Referer headers). Drafts are removed a day after they were made.
CREATE TABLE signup_drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL UNIQUE,
    details TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX signup_drafts_created ON signup_drafts (created_at);
