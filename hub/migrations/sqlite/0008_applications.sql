-- Applications: Docker images users may launch through their manager, and grants that give
-- one to a user or a group under a policy (simphony-remote's application, policy and
-- accounting tables, kept in the hub's database).
CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The image as registered: a name with its tag, or an image ID.
    image TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE app_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The grant's public id (simphony-remote's mapping_id): random, stable across restarts.
    mapping_id TEXT NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    -- The policy as canonical JSON (fixed field order), so equal policies are equal text.
    policy TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX app_grants_user ON app_grants(application_id, user_id, policy) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX app_grants_group ON app_grants(application_id, group_id, policy) WHERE group_id IS NOT NULL;
CREATE INDEX app_grants_by_user ON app_grants(user_id);
CREATE INDEX app_grants_by_group ON app_grants(group_id);
