-- Readings are deduplicated through their event: the ingest statement (store/event-insert.ts)
-- inserts a message's readings only when its event row was new in that same atomic statement,
-- so a redelivered message adds no readings. The 6-column unique constraint on readings then
-- only cost an extra index update per reading (and a conflict check into compressed chunks);
-- readings_series_ts still serves the charts and look-backs.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'readings'::regclass AND contype = 'u' LOOP
    EXECUTE format('ALTER TABLE readings DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
