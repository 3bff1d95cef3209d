-- Up Migration

-- Test events (POST /v1/webhook-endpoint/test, the portal's "Send test event"): in the event log beside real ones,
-- marked, and tied to no visit (their resourceId is visit_test_..., which no visit has).
ALTER TABLE events ADD COLUMN test boolean NOT NULL DEFAULT false;
ALTER TABLE events ALTER COLUMN visit_id DROP NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_visit_unless_test CHECK (test OR visit_id IS NOT NULL);
CREATE INDEX events_client_test ON events (client_id, created_at) WHERE test;

-- Down Migration
DROP INDEX events_client_test;
DELETE FROM delivery_attempts WHERE event_id IN (SELECT event_id FROM events WHERE test);
DELETE FROM deliveries WHERE event_id IN (SELECT event_id FROM events WHERE test);
DELETE FROM events WHERE test;
ALTER TABLE events DROP CONSTRAINT events_visit_unless_test;
ALTER TABLE events ALTER COLUMN visit_id SET NOT NULL;
ALTER TABLE events DROP COLUMN test;
