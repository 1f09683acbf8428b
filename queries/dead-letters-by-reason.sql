-- Input that could not be read, by reason: what the trail is missing, and where to look (first position).
-- @param since time = '7 days' : ingested from this time on
SELECT reason, source, count(*) AS dead_letters, min(position) AS first_position,
       min(ingested_at) AS first_ingested, max(ingested_at) AS last_ingested
FROM dead_letters
WHERE ingested_at >= CAST($since AS TIMESTAMPTZ)
GROUP BY reason, source
ORDER BY dead_letters DESC, reason, source;
