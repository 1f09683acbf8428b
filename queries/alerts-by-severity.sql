-- Alerts by severity: how many alerts of each severity were last seen in the range or are still open (an
-- open alert never ages out), and how many of them are open (not acknowledged or retracted).
-- @param since time = '7 days' : alerts last seen from this time on (open ones always)
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
SELECT severity, count(*) AS alerts, count(*) FILTER (WHERE status = 'open') AS open_alerts
FROM alerts
WHERE (status = 'open' OR last_seen >= CAST($since AS TIMESTAMPTZ))
  AND ($until IS NULL OR first_seen < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR server = $server)
GROUP BY severity
ORDER BY CASE severity WHEN 'critical' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 3 WHEN 'low' THEN 4 ELSE 5 END;
