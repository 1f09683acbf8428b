-- Everything one actor changed in a time range: every role, password, privilege and setting change made
-- by that session user (or while acting as that role after SET ROLE), rolled-back ones included and marked,
-- with where each came from (client address, application).
-- @param actor text : the user who made the changes
-- @param since time = '7 days' : start of the range (ISO time or a duration back from now)
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
SELECT p.server, p.logged_at, p.session_id, s.client_addr, s.application_name, p.actor, p.acting_role, p.action,
       p.role_name, p.attribute, p.value, p.granted_role, p.privileges, p.object_type, p.object_name, p.grantee,
       p.effective, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE (p.actor = $actor OR p.acting_role = $actor)
  AND p.logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR p.logged_at < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at, p.seq;
