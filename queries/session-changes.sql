-- The privilege changes one session made, in order, rolled-back ones included and marked (effective = false).
-- @param session_id text : the session id (%c), e.g. 6b05a553.26bf
-- @param server text = null : one server, or NULL for all
SELECT server, logged_at, actor, acting_role, action, role_name, attribute, value, granted_role, privileges,
       object_name, grantee, effective, statement
FROM privilege_changes
WHERE session_id = $session_id AND ($server IS NULL OR server = $server)
ORDER BY logged_at, seq;
