-- Failed logins over time, per user name or per client host: how many authentication failures each had in
-- each time bucket. The bucket (second, minute, hour or day) follows the span of the data in the range.
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param split_by text = 'user' : what the series are: user or host
WITH failures AS (
  SELECT logged_at, coalesce(CASE $split_by WHEN 'host' THEN client_addr ELSE user_name END, '(unknown)') AS series
  FROM auth_failures
  WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
    AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
    AND ($server IS NULL OR server = $server)
),
grain AS (
  SELECT CASE WHEN max(logged_at) - min(logged_at) > INTERVAL 7 DAY THEN 'day'
              WHEN max(logged_at) - min(logged_at) > INTERVAL 6 HOUR THEN 'hour'
              WHEN max(logged_at) - min(logged_at) > INTERVAL 5 MINUTE THEN 'minute'
              ELSE 'second' END AS part
  FROM failures
)
SELECT date_trunc(grain.part, logged_at) AS bucket, series, count(*) AS failures
FROM failures, grain
GROUP BY ALL
ORDER BY bucket, series;
