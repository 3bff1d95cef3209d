-- Up Migration

-- What retention (src/db/retention-queries.ts) looks rows up by: their age. Both columns are written once, at insert,
-- so these indexes never slow the delivery path's status updates.
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX delivery_attempts_attempted_at ON delivery_attempts (attempted_at);

-- Down Migration
DROP INDEX delivery_attempts_attempted_at;
DROP INDEX events_created_at;
