INSERT INTO raw_records
SELECT $platform, $kind, record_id, payload_hash, parent_id, $partition_key, $run_id, $extracted_at, payload::JSON
FROM batch
ON CONFLICT DO NOTHING
RETURNING record_id;
