-- Activity totals in a range, one row: audit events, privilege changes that took effect, failed logins,
-- sessions started, and alerts still open however long ago they were last seen (an open alert never ages
-- out of view; until still leaves out those first seen after it).
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
SELECT
  (SELECT count(*) FROM audit_events WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
     AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ)) AND ($server IS NULL OR server = $server)) AS audit_events,
  (SELECT count(*) FROM privilege_changes WHERE effective AND logged_at >= CAST($since AS TIMESTAMPTZ)
     AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ)) AND ($server IS NULL OR server = $server)) AS privilege_changes,
  (SELECT count(*) FROM auth_failures WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
     AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ)) AND ($server IS NULL OR server = $server)) AS failed_logins,
  (SELECT count(*) FROM sessions WHERE started_at >= CAST($since AS TIMESTAMPTZ)
     AND ($until IS NULL OR started_at < CAST($until AS TIMESTAMPTZ)) AND ($server IS NULL OR server = $server)) AS sessions,
  (SELECT count(*) FROM alerts WHERE status = 'open'
     AND ($until IS NULL OR first_seen < CAST($until AS TIMESTAMPTZ)) AND ($server IS NULL OR server = $server)) AS open_alerts;
