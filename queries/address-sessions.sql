-- Sessions from one client address: who connected from it, with which application, to which database,
-- whether TLS was on, and how many privilege changes each session made.
-- @param client_addr text : the client address, e.g. 203.0.113.7
-- @param server text = null : one server, or NULL for all
SELECT s.server, s.session_id, s.started_at, s.ended_at, s.user_name, s.database_name, s.application_name, s.ssl,
       (SELECT count(*) FROM privilege_changes p WHERE p.server = s.server AND p.session_id = s.session_id) AS privilege_changes
FROM sessions s
WHERE s.client_addr = $client_addr AND ($server IS NULL OR s.server = $server)
ORDER BY s.started_at DESC NULLS LAST, s.server, s.session_id;
