-- Shares: a user or a group granted scopes on one server (JupyterHub 5's sharing).
CREATE TABLE shares (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    -- JSON array of scope strings, each filtered to the server.
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX shares_user ON shares(server_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shares_group ON shares(server_id, group_id) WHERE group_id IS NOT NULL;
