-- One session at a glance: who connected, from which address and application, to which database, how they
-- authenticated and whether TLS was on, when it started and ended, and how many statements, privilege
-- changes and alerts it has.
-- @param session_id text : the session id (%c), e.g. 6b05a553.26bf
-- @param server text = null : one server, or NULL for all
SELECT s.server, s.session_id, s.user_name, s.database_name, s.client_addr, s.application_name, s.started_at, s.ended_at,
       s.auth_method, s.ssl, s.ssl_protocol,
       (SELECT count(*) FROM audit_events e WHERE e.server = s.server AND e.session_id = s.session_id) AS statements,
       (SELECT count(*) FROM privilege_changes p WHERE p.server = s.server AND p.session_id = s.session_id) AS privilege_changes,
       (SELECT count(DISTINCT alert_id) FROM alert_changes a WHERE a.server = s.server AND a.session_id = s.session_id) AS alerts
FROM sessions s
WHERE s.session_id = $session_id AND ($server IS NULL OR s.server = $server)
ORDER BY s.server;
