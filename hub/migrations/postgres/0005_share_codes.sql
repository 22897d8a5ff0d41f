-- Share codes: a secret link that turns into a share for whoever accepts it.
CREATE TABLE share_codes (
    id BIGSERIAL PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    -- SHA-256 of the code; the code itself is shown once, when issued.
    code_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    exchange_count BIGINT NOT NULL DEFAULT 0,
    last_exchanged_at TIMESTAMPTZ
);
