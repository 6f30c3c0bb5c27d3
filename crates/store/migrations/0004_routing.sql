-- Migration between vendors (PRODUCT §12): the customer map the store keeps
-- (each customer's reference at each vendor account), and which routing rule
-- and target made each routed session. Portable across SQLite and
-- PostgreSQL: TEXT and BIGINT only, times as unix milliseconds.

-- Every customer the map knows, with or without references: a customer put
-- with an empty map is known ("no references"), which a missing row is not.
CREATE TABLE IF NOT EXISTS customers (
    customer TEXT PRIMARY KEY,
    -- 1 when put first, raised by every later put: a put tells whether the
    -- customer was new from the row it upserted, on either database.
    version BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- A customer's reference at one target ("provider:account"). A put replaces
-- all of a customer's rows at once, under its `customers` row's lock.
CREATE TABLE IF NOT EXISTS customer_refs (
    customer TEXT,
    target TEXT,
    reference TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (customer, target)
);

-- Which rule and target a routed create went to (first write wins), so that
-- completions count per rule and target. Purged with the change feed's events.
CREATE TABLE IF NOT EXISTS routed_sessions (
    session_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    target TEXT NOT NULL,
    -- The sticky split's bucket; NULL when the rule's target was fixed.
    bucket BIGINT NULL,
    created_ms BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS routed_sessions_created_ms ON routed_sessions (created_ms);
