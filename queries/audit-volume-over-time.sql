-- Audit volume over time: pgaudit entries per time bucket, split by class (READ, WRITE, ROLE, DDL, ...) or
-- by server. The bucket (second, minute, hour or day) follows the span of the data in the range, so a short
-- capture and a month of traffic both give a readable chart.
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param split_by text = 'class' : what the series are: class or server
WITH events AS (
  SELECT logged_at, CASE $split_by WHEN 'server' THEN server ELSE class END AS series
  FROM audit_events
  WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
    AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
    AND ($server IS NULL OR server = $server)
),
grain AS (
  SELECT CASE WHEN max(logged_at) - min(logged_at) > INTERVAL 7 DAY THEN 'day'
              WHEN max(logged_at) - min(logged_at) > INTERVAL 6 HOUR THEN 'hour'
              WHEN max(logged_at) - min(logged_at) > INTERVAL 5 MINUTE THEN 'minute'
              ELSE 'second' END AS part
  FROM events
)
SELECT date_trunc(grain.part, logged_at) AS bucket, series, count(*) AS events
FROM events, grain
GROUP BY ALL
ORDER BY bucket, series;
