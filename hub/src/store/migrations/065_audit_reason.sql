-- The audit note as data ({code, params, text}: AuditReason in schemas/src/tickets.ts), so the
-- dashboard shows "不满意：…" instead of the English line kept in `note` for logs and old rows.
ALTER TABLE ticket_audit ADD COLUMN IF NOT EXISTS reason jsonb;
