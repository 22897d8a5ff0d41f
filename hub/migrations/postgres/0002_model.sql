-- JupyterHub's model: groups, roles, services, servers and API tokens.
ALTER TABLE users ADD COLUMN auth_state TEXT;

CREATE TABLE groups (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- JSON object, kept verbatim.
    properties TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE user_group_map (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    url TEXT NOT NULL DEFAULT '',
    -- Whether the service came from the configuration (removed when it leaves it).
    from_config BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE roles (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    -- JSON array of scope strings.
    scopes TEXT NOT NULL DEFAULT '[]',
    managed_by_auth BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE user_role_map (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE group_role_map (
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);

CREATE TABLE service_role_map (
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, role_id)
);

-- A user's servers: the default one has the name ''.
CREATE TABLE servers (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- JSON: the spawner's saved state (pid, container id, ...).
    state TEXT NOT NULL DEFAULT '{}',
    user_options TEXT NOT NULL DEFAULT '{}',
    -- Where the proxy routes to while the server runs; NULL when stopped.
    url TEXT,
    started TIMESTAMPTZ,
    last_activity TIMESTAMPTZ,
    UNIQUE (user_id, name)
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    -- The first characters of the token, to find the row without scanning every hash.
    prefix TEXT NOT NULL,
    -- SHA-256 of the whole token (tokens are 256-bit random, so no salt or stretching is needed).
    hashed TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    service_id BIGINT REFERENCES services(id) ON DELETE CASCADE,
    -- JSON array of scope strings the token was granted.
    scopes TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    session_id TEXT,
    oauth_client TEXT,
    created TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    last_activity TIMESTAMPTZ,
    CHECK ((user_id IS NULL) <> (service_id IS NULL))
);
CREATE INDEX api_tokens_prefix ON api_tokens(prefix);
