SELECT cause FROM guard_approvals WHERE platform = $platform AND config = $config;
