-- The id ferrohub-proxy knows a session by (derived from the session token with the proxy
-- key). Not secret by itself: a proxy cookie also needs the key's signature. Kept so that a
-- session ended without its token at hand (`ferrohub lock`) can be revoked at the proxy too.
-- NULL for sessions started before it was kept.
ALTER TABLE sessions ADD COLUMN proxy_sid TEXT;

-- Proxy sessions to revoke at the proxy: queued in the transaction that ends their hub
-- sessions (by a process that may have no connection to the proxy) and delivered by the
-- running hub, which deletes each row once the proxy took it or the session has expired.
CREATE TABLE proxy_revocations (
    id BIGSERIAL PRIMARY KEY,
    sid TEXT NOT NULL,
    -- When the proxy session expires anyway; the proxy forgets the revocation then.
    expires_at TIMESTAMPTZ NOT NULL,
    created TIMESTAMPTZ NOT NULL
);
