SELECT kind, count(*) FROM raw_records WHERE platform = $platform GROUP BY kind;
