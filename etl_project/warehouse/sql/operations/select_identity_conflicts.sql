SELECT platform, platform_id, reason FROM identity_conflicts ORDER BY platform, platform_id;
