-- Passwords set in clear text: CREATE/ALTER ROLE ... PASSWORD 'literal' that the server received unhashed
-- (so it passed through logs, history files or pg_stat_statements), with the strength measured before the
-- literal was redacted, and where each came from. The password itself is never stored.
-- @param since time = '90 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT p.server, p.logged_at, p.actor, s.client_addr, s.application_name, p.session_id, p.role_name,
       p.value AS password_kind, p.password_strength, p.effective
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE p.action = 'set-password' AND p.value = 'clear'
  AND p.logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at, p.seq;
