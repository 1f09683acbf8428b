-- What a session did, statement by statement: its audit events in order, with who it was and from where.
-- @param session_id text : the session id (%c), e.g. 6b05a553.26bf
-- @param server text = null : one server, or NULL for all
SELECT logged_at, class, command, object_type, object_name, statement, rows, statement_id, substatement_id, audit_type,
       parameter, user_name, database_name, client_addr, application_name
FROM audit_events
WHERE session_id = $session_id AND ($server IS NULL OR server = $server)
ORDER BY logged_at, statement_id, substatement_id;
