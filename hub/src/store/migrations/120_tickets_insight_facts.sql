-- The read side at a month of history (issue 12): 每月一题, 高频点位 and the seasonal warning
-- (kpi/insights-service.ts facts) read a site's tickets by opening time, a few columns each.
-- Covering them lets those reads scan this index only, never the rows with their jsonb
-- documents (the seasonal warning reads up to 3 years).
CREATE INDEX IF NOT EXISTS tickets_insight_facts ON tickets (site_id, opened_at)
  INCLUDE (status, category, cell_id, device_id, id);
