-- Passwords set in clear text: CREATE/ALTER ROLE ... PASSWORD 'literal' that the server received unhashed
-- (so it passed through logs, history files or pg_stat_statements), with the strength measured before the
-- literal was redacted. The password itself is never stored.
-- @param since time = '90 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, logged_at, actor, role_name, value AS password_kind, password_strength, effective
FROM privilege_changes
WHERE action = 'set-password' AND value = 'clear'
  AND logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR server = $server)
ORDER BY logged_at, seq;
