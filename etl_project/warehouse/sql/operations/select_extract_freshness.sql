-- Per platform and kind: when the newest live (not backfill) extraction finished, and the newest of any kind.
-- (A live window's end is its partition's end, tomorrow: when it finished is what says the extraction runs.)
SELECT platform, kind, max(finished_at) FILTER (WHERE NOT is_backfill) AS live_finished, max(finished_at) AS finished_at
FROM extract_ledger
GROUP BY ALL
ORDER BY platform, kind;
