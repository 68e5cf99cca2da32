INSERT INTO identity_links SELECT platform, platform_id, person_id, matched_by, $linked_at FROM links
ON CONFLICT (platform, platform_id) DO NOTHING;
