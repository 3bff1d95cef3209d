-- Up Migration

-- How far the Quickbase reconciliation sweep has read each table: the newest Date Modified of the last page
-- whose records were all handed to the intake. A sweep reads from here minus QUICKBASE_SWEEP_OVERLAP.
CREATE TABLE quickbase_sweep_watermarks (
  realm_hostname  text NOT NULL,
  table_id        text NOT NULL,
  modified_at     timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (realm_hostname, table_id)
);

-- Down Migration
DROP TABLE quickbase_sweep_watermarks;
