INSERT INTO child_fetches SELECT $platform, $kind, parent_id, $extracted_at FROM parents
ON CONFLICT (platform, kind, parent_id) DO UPDATE SET fetched_at = excluded.fetched_at;
