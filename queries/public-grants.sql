-- Grants to PUBLIC: object privileges and default privileges given to every role, with whether a later
-- effective REVOKE from PUBLIC on the same object took them back, and where each grant came from.
-- @param since time = '3650 days' : only grants from this time on
-- @param server text = null : one server, or NULL for all
SELECT g.server, g.logged_at, g.actor, g.session_id, s.client_addr, s.application_name, g.action, g.privileges,
       g.object_type, g.object_name, g.statement,
       EXISTS (SELECT 1 FROM privilege_changes r
               WHERE r.effective AND r.server = g.server AND upper(r.grantee) = 'PUBLIC'
                 AND r.action = replace(g.action, 'grant', 'revoke')
                 AND r.object_name IS NOT DISTINCT FROM g.object_name AND r.logged_at > g.logged_at) AS revoked_later
FROM privilege_changes g
LEFT JOIN sessions s ON s.server = g.server AND s.session_id = g.session_id
WHERE g.effective AND g.action IN ('grant', 'default-grant') AND upper(g.grantee) = 'PUBLIC'
  AND g.logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($server IS NULL OR g.server = $server)
ORDER BY g.logged_at, g.seq;
