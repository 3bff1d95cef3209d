-- Up Migration

CREATE TABLE clients (
  client_id        text PRIMARY KEY,
  name             text NOT NULL,
  api_enabled      boolean NOT NULL DEFAULT false,
  webhook_url      text,
  -- NULL: every event type
  event_types      text[],
  enabled          boolean NOT NULL DEFAULT true,
  disabled_reason  text,
  disabled_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Signing secrets. The newest unexpired one signs first; a rotated-out one keeps signing until expires_at.
CREATE TABLE client_secrets (
  id          bigserial PRIMARY KEY,
  client_id   text NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz
);
CREATE INDEX client_secrets_client ON client_secrets (client_id, created_at DESC);

-- Client API keys, stored as SHA-256 of the key; the prefix identifies a key to operators.
CREATE TABLE api_keys (
  id          bigserial PRIMARY KEY,
  client_id   text NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- The visit registry: one row per visit, the source of the visit ID.
CREATE TABLE visits (
  visit_id              text PRIMARY KEY,
  client_id             text NOT NULL,
  client_ticket_number  text NOT NULL,
  client_site_id        text NOT NULL,
  quickbase_record_id   text UNIQUE,
  workflow_id           text NOT NULL,
  origin                text NOT NULL CHECK (origin IN ('api', 'ssn')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  -- set once ticket.created has been handed to delivery: a later creation publishes nothing
  announced_event_id    text,
  -- the visit's last known state, written when its workflow completes
  closed_at             timestamptz,
  final_state           jsonb,
  UNIQUE (client_id, client_ticket_number)
);

-- Every event, its envelope serialised once; disposition follows the first delivery and any redelivery.
CREATE TABLE events (
  event_id      text PRIMARY KEY,
  visit_id      text NOT NULL REFERENCES visits(visit_id),
  client_id     text NOT NULL,
  type          text NOT NULL,
  origin        text NOT NULL CHECK (origin IN ('api', 'ssn')),
  occurred_at   timestamptz NOT NULL,
  body          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('delivering', 'retrying', 'delivered', 'failed', 'suppressed', 'filtered', 'undelivered')),
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_visit ON events (visit_id, occurred_at);
CREATE INDEX events_client_status ON events (client_id, status, occurred_at);

-- One per delivery of an event to an endpoint (the first one, and each manual redelivery).
CREATE TABLE deliveries (
  delivery_id  text PRIMARY KEY,
  event_id     text NOT NULL REFERENCES events(event_id),
  kind         text NOT NULL CHECK (kind IN ('initial', 'redelivery')),
  status       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX deliveries_event ON deliveries (event_id);

-- Every HTTP attempt.
CREATE TABLE delivery_attempts (
  id             bigserial PRIMARY KEY,
  event_id       text NOT NULL,
  delivery_id    text NOT NULL,
  attempt        integer NOT NULL,
  url            text NOT NULL,
  status_code    integer,
  error_class    text,
  duration_ms    integer NOT NULL,
  response_body  text,
  attempted_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, attempted_at);

-- Down Migration
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE visits;
DROP TABLE api_keys;
DROP TABLE client_secrets;
DROP TABLE clients;
