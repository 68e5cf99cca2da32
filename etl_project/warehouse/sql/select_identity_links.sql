SELECT platform, platform_id, person_id FROM identity_links;
