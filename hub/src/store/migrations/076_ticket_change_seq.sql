-- Live feed from any hub (README "Scaling out"): every insert or update of a ticket draws the
-- next number of one sequence, so a hub can read the changes other hubs made, in commit order
-- (live/cluster-source.ts), as the rules read events by ingest_seq.
CREATE SEQUENCE IF NOT EXISTS tickets_change_seq;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS change_seq bigint;
CREATE INDEX IF NOT EXISTS tickets_change_seq_idx ON tickets (change_seq);

CREATE OR REPLACE FUNCTION tickets_number_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_seq := nextval('tickets_change_seq');
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS tickets_number_change ON tickets;
CREATE TRIGGER tickets_number_change BEFORE INSERT OR UPDATE ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_number_change();
