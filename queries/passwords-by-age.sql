-- Passwords by age: login roles with a password, oldest password first. `password_changed_at` is NULL when
-- the password was set before the trail began (so its age is unknown, and listed first).
-- @param min_age_days int = 0 : only passwords at least this many days old (unknown ages always shown)
-- @param server text = null : one server, or NULL for all
-- @param as_of time = '0 days' : the time ages are measured at (default now)
SELECT server, rolname AS role_name, rolcanlogin, password_changed_at,
       date_diff('day', password_changed_at, CAST($as_of AS TIMESTAMPTZ)) AS age_days, rolvaliduntil
FROM roles
WHERE has_password
  AND (password_changed_at IS NULL OR date_diff('day', password_changed_at, CAST($as_of AS TIMESTAMPTZ)) >= CAST($min_age_days AS INTEGER))
  AND ($server IS NULL OR server = $server)
ORDER BY password_changed_at NULLS FIRST, server, rolname;
