-- Browser sessions and the OAuth provider (clients and authorization codes).
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- SHA-256 of the session token in the signed cookie; the token itself is never stored.
    hashed TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the client secret (a server's API token).
    secret_hash TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    -- JSON array of the scopes that reaching the client requires.
    access_scopes TEXT NOT NULL DEFAULT '[]',
    -- The user whose server the client is, if it is one (no confirmation page for them).
    owner TEXT
);

CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hashed TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES oauth_clients(identifier) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The session that authorized it: tokens issued for it end with the session.
    session_id TEXT,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '[]',
    code_challenge TEXT,
    code_challenge_method TEXT,
    expires_at TEXT NOT NULL
);
