-- One row per window marked complete (`ledger_rows`, registered by the warehouse), replacing the partition's last.
INSERT OR REPLACE INTO extract_ledger BY NAME
SELECT platform, kind, partition_key, window_start, window_end, read_from, read_to, run_id, is_backfill,
       records, new_records, changed, quarantined, requests, finished_at
FROM ledger_rows;
