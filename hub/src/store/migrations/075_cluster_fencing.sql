-- Fencing (README "Scaling out"): every time a hub gains a lease its epoch goes up by one, and
-- a site owner's ticket write checks, in its own transaction, that the epoch is still the one it
-- gained (cluster/fence.ts). An old owner that was paused or cut off cannot write after a
-- takeover: the database refuses it, whatever the old process still believes.
ALTER TABLE cluster_leases ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0;

-- One row per hub, renewed on every lease poll. A hub whose row has expired while its lease
-- session is still open (process paused by SIGSTOP, hung, or a half-open socket) has its lease
-- session terminated by a live hub, which frees its advisory locks for a takeover.
CREATE TABLE IF NOT EXISTS cluster_hubs (
  hub_id text PRIMARY KEY,
  backend_pid integer NOT NULL,
  expires_at timestamptz NOT NULL
);
