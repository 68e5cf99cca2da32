INSERT INTO identity_conflicts SELECT platform, platform_id, reason, candidates, $detected_at FROM conflicts;
