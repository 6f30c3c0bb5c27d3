-- What a running claim is doing at the vendor (PRODUCT §10, "a create's
-- unknown outcome is resolved"): a claim that takes over from an owner that
-- died or could not tell the outcome reads the earlier attempt back and looks
-- for its session at the vendor before creating again.
-- The attempt, as the gateway describes it (JSON, opaque to the store).
ALTER TABLE idempotency_keys ADD COLUMN attempt TEXT;
-- Whom the attempt creates for (vendor account and customer): concurrent
-- attempts for one subject make a session found at the vendor ambiguous.
ALTER TABLE idempotency_keys ADD COLUMN subject TEXT;
-- The vendor session a done record answered with: never adopted by another key.
ALTER TABLE idempotency_keys ADD COLUMN session_id TEXT;

CREATE INDEX IF NOT EXISTS idempotency_keys_subject ON idempotency_keys (subject);
CREATE INDEX IF NOT EXISTS idempotency_keys_session_id ON idempotency_keys (session_id);
