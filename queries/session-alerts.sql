-- Alerts raised on what one session did: every alert standing on one of its privilege changes.
-- @param session_id text : the session id (%c), e.g. 6b05a553.26bf
-- @param server text = null : one server, or NULL for all
SELECT a.alert_id, a.severity, a.status, a.summary, a.rule_id, a.server, a.last_seen
FROM alerts a
WHERE EXISTS (SELECT 1 FROM alert_changes c WHERE c.alert_id = a.alert_id AND c.session_id = $session_id)
  AND ($server IS NULL OR a.server = $server)
ORDER BY a.last_seen, a.alert_id;
