-- Alerts with their evidence, newest first: what each rule found, on which server, who did it to whom,
-- how often (count), and whether someone acknowledged it, how they judged it and why. Open alerts are listed
-- however long ago they were last seen: an alert nobody handled never ages out of view.
-- @param since time = '7 days' : alerts last seen from this time on (open ones always)
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param status text = null : open, acknowledged or retracted; NULL for all
SELECT alert_id, severity, status, summary, rule_id, server, first_seen, last_seen, count, actor, target, mitre,
       acknowledged_at, acknowledged_by, ack_classification, ack_comment, evidence
FROM alerts
WHERE (status = 'open' OR last_seen >= CAST($since AS TIMESTAMPTZ))
  AND ($until IS NULL OR first_seen < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR server = $server)
  AND ($status IS NULL OR status = $status)
ORDER BY last_seen DESC, alert_id DESC;
