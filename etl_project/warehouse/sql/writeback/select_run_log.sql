-- One run's log rows for one target, with who each person is (email, else name), acknowledged rows first.
SELECT l.operation, l.status, coalesce(g.email, trim(concat_ws(' ', g.first_name, g.last_name)), l.person_id) AS who,
    l.target_id, l.fields_changed, l.error
FROM sync_log l
LEFT JOIN golden_contacts g ON g.person_id = l.person_id
WHERE l.run_id = $run_id AND l.platform = $platform
ORDER BY l.status <> 'acknowledged', l.logged_at, l.person_id;
