INSERT INTO quarantine
SELECT $platform, $kind, payload_hash, record_id, reason, payload::JSON, $partition_key, $run_id, $extracted_at, NULL
FROM rejected
ON CONFLICT DO NOTHING
RETURNING payload_hash;
