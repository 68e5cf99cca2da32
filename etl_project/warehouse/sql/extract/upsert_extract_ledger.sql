INSERT OR REPLACE INTO extract_ledger VALUES (
    $platform, $kind, $partition_key, $window_start, $window_end, $read_from, $read_to, $run_id, $is_backfill,
    $records, $new_records, $changed, $quarantined, $requests, $finished_at
);
