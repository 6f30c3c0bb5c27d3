-- The change feed (PRODUCT §11): the sessions the gateway tracks, the events
-- their changes make, and their webhook deliveries. Portable across SQLite
-- and PostgreSQL: TEXT and BIGINT only, times as unix milliseconds.

-- Every session the gateway has created, read or listed, until it is
-- terminal (and a grace period after): what it last saw, and when to poll.
CREATE TABLE IF NOT EXISTS tracked_sessions (
    -- The canonical session id.
    session_id TEXT PRIMARY KEY,
    -- "provider:account": polls run per account, within its budget.
    account TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_status TEXT,
    -- The canonical session JSON as last seen: the `previous` of the next event.
    state TEXT NOT NULL,
    -- The vendor's link key (e.g. Flowglad's purchase id): a vendor webhook
    -- names it, not the session.
    hint TEXT,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    -- NULL: not polled (terminal).
    next_poll_ms BIGINT,
    -- Polls failed in a row: the next try backs off.
    failures BIGINT NOT NULL,
    -- When it was first seen terminal: the row is purged a grace after.
    terminal_ms BIGINT,
    -- Raised by every recorded observation: a writer that read an older
    -- version recomputes its events instead of making them twice.
    version BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    -- When the recorded observation was made (the observer's clock): an
    -- older one, queued behind it, is not applied over it.
    seen_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS tracked_sessions_due ON tracked_sessions (account, next_poll_ms);
CREATE INDEX IF NOT EXISTS tracked_sessions_hint ON tracked_sessions (hint);
CREATE INDEX IF NOT EXISTS tracked_sessions_terminal ON tracked_sessions (terminal_ms);

-- Gap-free counters. Each event takes the next value inside the transaction
-- that records it: the row lock orders commits by value on PostgreSQL, so a
-- reader's `after` cursor never steps over an event that commits late.
CREATE TABLE IF NOT EXISTS feed_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO feed_counters (name, value) VALUES ('events', 0), ('deliveries', 0);

-- The events, in the order they were recorded (seq): the pull feed, the SSE
-- stream and the webhooks all read them from here.
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    session_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    -- The event JSON exactly as served and signed.
    body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS events_created_ms ON events (created_ms);
CREATE INDEX IF NOT EXISTS events_account_seq ON events (account, seq);
CREATE INDEX IF NOT EXISTS events_session_id ON events (session_id);

-- Work one replica does at a time (polling an account, delivering to an
-- endpoint): whoever holds the lease, until when.
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- Webhook endpoints as the store knows them: how far the events were fanned
-- out to them, and whether the receiver asked to stop (410).
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    name TEXT PRIMARY KEY,
    -- Events up to this seq have deliveries (or did not match the filter).
    cursor BIGINT NOT NULL,
    disabled_ms BIGINT,
    disabled_reason TEXT
);

-- One event to send to one endpoint (a redelivery is another row).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    -- From the 'deliveries' counter: portable, no sequences.
    id BIGINT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    -- Deliveries of one session go in event order: a pending one holds the later ones back.
    session_id TEXT NOT NULL,
    -- 'pending', 'delivered' or 'failed' (gave up).
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- When a pending delivery is due (next retry).
    next_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (endpoint, state, next_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_session ON webhook_deliveries (endpoint, session_id, event_seq);
CREATE INDEX IF NOT EXISTS webhook_deliveries_event ON webhook_deliveries (event_id);
-- The purge keeps events that still have a delivery: looked up by seq.
CREATE INDEX IF NOT EXISTS webhook_deliveries_event_seq ON webhook_deliveries (event_seq);

-- Every attempt at a delivery, for the admin's view of what the receiver said.
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id BIGINT NOT NULL,
    -- 1-based.
    attempt BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    -- The receiver's HTTP status; NULL when none came (timeout, refused).
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
