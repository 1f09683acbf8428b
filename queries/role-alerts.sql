-- Alerts about one role: alerts where it was the actor or the target, newest first.
-- @param role text : the role name
-- @param server text = null : one server, or NULL for all
SELECT alert_id, severity, status, summary, rule_id, server, last_seen, actor, target
FROM alerts
WHERE (actor = $role OR target = $role) AND ($server IS NULL OR server = $server)
ORDER BY last_seen DESC, alert_id DESC;
