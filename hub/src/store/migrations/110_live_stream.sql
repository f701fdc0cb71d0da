-- Live resume across hubs (README "Scaling out"): a dashboard's position is counted in this
-- database's sequences (events.ingest_seq, tickets.change_seq). The stream id names the
-- database, so a position is honoured only by hubs that share it (live/cluster-source.ts).
CREATE TABLE IF NOT EXISTS live_stream (
  id text NOT NULL,
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO live_stream (id) VALUES (md5(random()::text || clock_timestamp()::text)) ON CONFLICT (singleton) DO NOTHING;
