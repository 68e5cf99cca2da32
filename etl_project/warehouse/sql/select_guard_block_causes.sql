SELECT approval, causes FROM guard_blocks WHERE platform = $platform AND config = $config;
