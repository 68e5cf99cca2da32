SELECT cursor_at FROM extract_cursors WHERE platform = $platform AND kind = $kind;
