-- Idempotency records (PRODUCT §10). Portable across SQLite and PostgreSQL:
-- TEXT and BIGINT only, times as unix milliseconds.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    -- Who the key belongs to (the gateway client): two clients may use one key.
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    -- The request's fingerprint (SHA-256 in hex): the same key with another
    -- request is refused.
    fingerprint TEXT NOT NULL,
    -- The claim's owner: only it may complete or release the record.
    token TEXT NOT NULL,
    -- 'running' (a create is under way) or 'done' (the response is kept).
    state TEXT NOT NULL,
    -- A running claim past this has lost its owner and may be taken over.
    lease_until BIGINT NOT NULL,
    -- Past this the record is gone for every purpose (and purged).
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The response, once done.
    status BIGINT,
    body TEXT,
    location TEXT,
    retry_after_secs BIGINT,
    PRIMARY KEY (scope, idem_key)
);

CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at ON idempotency_keys (expires_at);
