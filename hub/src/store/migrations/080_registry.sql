-- The registry (README "Production"): sites, grid cells, workers, gateways, devices and
-- operators in tables, so every hub process reads the same registry and a change applies
-- without a restart. The site file (SITE_FILE) is the import/export format of these rows.
-- Each row keeps its key columns and credentials apart and the rest of the entity, exactly as
-- in the site file, in `doc`; `position` keeps the file's order so an export equals the import.
-- Cross-references (cells, gateways, logins) are checked by the same code as the site file
-- (site/load-site-file.ts) on every write, inside the writing transaction.
CREATE TABLE IF NOT EXISTS registry_sites (
  id text PRIMARY KEY,
  position integer NOT NULL,
  doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_cells (
  site_id text NOT NULL REFERENCES registry_sites (id) ON DELETE CASCADE,
  id text NOT NULL,
  position integer NOT NULL,
  doc jsonb NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE IF NOT EXISTS registry_workers (
  site_id text NOT NULL REFERENCES registry_sites (id) ON DELETE CASCADE,
  id text NOT NULL,
  position integer NOT NULL,
  password_hash text,
  doc jsonb NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE IF NOT EXISTS registry_gateways (
  site_id text NOT NULL REFERENCES registry_sites (id) ON DELETE CASCADE,
  id text NOT NULL,
  position integer NOT NULL,
  secret_hash text NOT NULL,
  doc jsonb NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE IF NOT EXISTS registry_devices (
  site_id text NOT NULL REFERENCES registry_sites (id) ON DELETE CASCADE,
  id text NOT NULL,
  position integer NOT NULL,
  secret_hash text,
  doc jsonb NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE TABLE IF NOT EXISTS registry_operators (
  username text PRIMARY KEY,
  position integer NOT NULL,
  password_hash text NOT NULL,
  doc jsonb NOT NULL
);
-- One row: bumped by every write (with NOTIFY shaobing_registry); hubs reload when it moves.
-- Writers lock this row first, so registry writes are serialised.
CREATE TABLE IF NOT EXISTS registry_version (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  change text NOT NULL
);
INSERT INTO registry_version (id, version, change) VALUES (true, 0, 'empty') ON CONFLICT (id) DO NOTHING;
