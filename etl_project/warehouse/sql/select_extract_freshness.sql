-- Per platform and kind: the end of the newest window a live (not backfill) extraction completed.
SELECT platform, kind, max(read_to) FILTER (WHERE NOT is_backfill) AS live_to, max(finished_at) AS finished_at
FROM extract_ledger
GROUP BY ALL
ORDER BY platform, kind;
