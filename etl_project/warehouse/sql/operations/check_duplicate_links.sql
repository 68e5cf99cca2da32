-- Ids that would make a write ambiguous on one target: a person holding two records there, or two pending
-- operations aimed at one record for different people.
SELECT 'person ' || person_id || ' holds ' || count(*) || ' records' AS problem
FROM identity_links WHERE platform = $platform
GROUP BY person_id HAVING count(*) > 1
UNION ALL
SELECT 'record ' || target_id || ' is targeted for ' || count(DISTINCT person_id) || ' people'
FROM outbox WHERE platform = $platform AND status IN ('planned', 'sent', 'failed') AND target_id IS NOT NULL
GROUP BY target_id HAVING count(DISTINCT person_id) > 1
ORDER BY 1
LIMIT 20;
