-- Who could see a ticket before a change that moved it (reassigned, taken by another, reviewed):
-- kept on that write's last audit row, so the other hubs' live feeds, which rebuild ticket
-- changes from the database (live/cluster-source.ts), take the ticket off the phone of a
-- worker it no longer concerns, as the hub that made the change does.
ALTER TABLE ticket_audit ADD COLUMN IF NOT EXISTS was jsonb;
