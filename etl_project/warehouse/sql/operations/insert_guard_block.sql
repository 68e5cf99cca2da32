INSERT INTO guard_blocks (approval, platform, config, causes, message, blocked_at)
VALUES ($approval, $platform, $config, $causes, $message, $now)
ON CONFLICT DO NOTHING;
