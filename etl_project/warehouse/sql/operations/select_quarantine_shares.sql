-- Per platform and kind: records landed and quarantined by the extractions that finished since $since.
SELECT platform, kind, sum(records) AS landed, sum(quarantined) AS quarantined
FROM extract_ledger
WHERE finished_at >= $since
GROUP BY ALL
ORDER BY platform, kind;
