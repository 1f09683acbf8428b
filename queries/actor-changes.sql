-- Everything one actor changed in a time range: every role, password, privilege and setting change made
-- by that session user (or while acting as that role after SET ROLE), rolled-back ones included and marked.
-- @param actor text : the user who made the changes
-- @param since time = '7 days' : start of the range (ISO time or a duration back from now)
-- @param until time = null : end of the range, NULL for now
SELECT server, logged_at, session_id, actor, acting_role, action, role_name, attribute, value, granted_role,
       privileges, object_type, object_name, grantee, effective, statement
FROM privilege_changes
WHERE (actor = $actor OR acting_role = $actor)
  AND logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
ORDER BY logged_at, seq;
