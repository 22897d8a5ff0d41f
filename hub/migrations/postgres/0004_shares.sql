-- Shares: a user or a group granted scopes on one server (JupyterHub 5's sharing).
CREATE TABLE shares (
    id BIGSERIAL PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    -- JSON array of scope strings, each filtered to the server.
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX shares_user ON shares(server_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shares_group ON shares(server_id, group_id) WHERE group_id IS NOT NULL;
