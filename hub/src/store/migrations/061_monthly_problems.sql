-- 每月一题 (DESIGN §7): the problem a supervisor adopted for a month, one per site and month.
-- Its progress is computed from tickets (the following month's volume), never stored.
CREATE TABLE IF NOT EXISTS monthly_problems (
  site_id text NOT NULL,
  month text NOT NULL,            -- YYYY-MM in TZ_REPORTS
  category text NOT NULL,
  place_id text NOT NULL,
  place_name text NOT NULL,
  volume integer NOT NULL,        -- tickets in the month when adopted
  adopted_by text NOT NULL,
  adopted_at timestamptz NOT NULL,
  note text,
  PRIMARY KEY (site_id, month)
);
