SELECT kind, count(DISTINCT COALESCE(record_id, payload_hash)) FROM quarantine
WHERE platform = $platform AND resolved_at IS NULL
GROUP BY kind;
