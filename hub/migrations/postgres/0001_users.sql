-- Users and the one-time links that set their passwords.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created TIMESTAMPTZ NOT NULL,
    last_activity TIMESTAMPTZ,
    -- argon2id PHC string; NULL means no usable password (set one through a link).
    password_hash TEXT,
    locked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE password_links (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- SHA-256 of the link's token; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    -- SHA-256 of token and PIN together, so the 4-digit PIN cannot be guessed offline.
    pin_hash TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    used BOOLEAN NOT NULL DEFAULT FALSE
);
