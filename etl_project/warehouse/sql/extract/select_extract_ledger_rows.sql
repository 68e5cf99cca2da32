-- The span each listed partition's last completed extraction read.
SELECT partition_key, read_from, read_to FROM extract_ledger
WHERE platform = $platform AND kind = $kind AND list_contains($keys, partition_key);
