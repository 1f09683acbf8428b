-- Alerts with their evidence, newest first: what each rule found, on which server, who did it to whom,
-- how often (count), and whether someone acknowledged it.
-- @param since time = '7 days' : alerts last seen from this time on
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param status text = null : open, acknowledged or retracted; NULL for all
SELECT alert_id, status, severity, rule_id, server, first_seen, last_seen, count, actor, target, summary, mitre,
       evidence, acknowledged_at, acknowledged_by
FROM alerts
WHERE last_seen >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR last_seen < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR server = $server)
  AND ($status IS NULL OR status = $status)
ORDER BY last_seen DESC, alert_id DESC;
