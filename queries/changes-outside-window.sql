-- Privilege changes outside the change window: role, password, grant and setting changes made outside the
-- agreed hours (by default weekdays 08:00-18:00 UTC), i.e. changes nobody should have been making, with where
-- each came from.
-- @param since time = '30 days' : start of the range
-- @param window_start text = '08:00' : start of the daily window (local to tz)
-- @param window_end text = '18:00' : end of the daily window (local to tz)
-- @param weekends bool = false : whether Saturday and Sunday are inside the window
-- @param tz text = 'UTC' : time zone of the window
SELECT p.server, p.logged_at, timezone($tz, p.logged_at) AS local_time, p.actor, s.client_addr, s.application_name,
       p.session_id, p.action, p.role_name, p.attribute, p.value, p.granted_role, p.privileges, p.object_name, p.grantee,
       p.effective, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE p.logged_at >= CAST($since AS TIMESTAMPTZ)
  AND p.action NOT IN ('set-role', 'reset-role', 'set-session-authorization')
  AND NOT (CAST(timezone($tz, p.logged_at) AS TIME) >= CAST($window_start AS TIME)
           AND CAST(timezone($tz, p.logged_at) AS TIME) < CAST($window_end AS TIME)
           AND (CAST($weekends AS BOOLEAN) OR isodow(timezone($tz, p.logged_at)) <= 5))
ORDER BY p.logged_at, p.seq;
