-- Privilege changes outside the change window: role, password, grant and setting changes made outside the
-- agreed hours (by default weekdays 08:00-18:00 UTC), i.e. changes nobody should have been making.
-- @param since time = '30 days' : start of the range
-- @param window_start text = '08:00' : start of the daily window (local to tz)
-- @param window_end text = '18:00' : end of the daily window (local to tz)
-- @param weekends bool = false : whether Saturday and Sunday are inside the window
-- @param tz text = 'UTC' : time zone of the window
SELECT server, logged_at, timezone($tz, logged_at) AS local_time, actor, action, role_name, attribute, value,
       granted_role, privileges, object_name, grantee, effective, statement
FROM privilege_changes
WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
  AND action NOT IN ('set-role', 'reset-role', 'set-session-authorization')
  AND NOT (CAST(timezone($tz, logged_at) AS TIME) >= CAST($window_start AS TIME)
           AND CAST(timezone($tz, logged_at) AS TIME) < CAST($window_end AS TIME)
           AND (CAST($weekends AS BOOLEAN) OR isodow(timezone($tz, logged_at)) <= 5))
ORDER BY logged_at, seq;
