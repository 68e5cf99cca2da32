SELECT read_from, read_to, run_id FROM extract_ledger
WHERE platform = $platform AND kind = $kind AND partition_key = $partition_key;
