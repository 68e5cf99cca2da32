-- People whose golden record may differ from what one target holds, with everything the planner needs. The
-- comparison runs here, over every person at once; only candidates reach Python. "Known" is the latest
-- extraction when it is at least as new as the sync's last acknowledged write to the target, else that write.
-- `key_taken`: the target already holds another person's record with this email or phone (an identity conflict
-- the reconcile step refused to merge), so creating one would duplicate or collide.
WITH target_links AS (
    SELECT l.person_id, l.platform_id, coalesce(c.is_deleted, false) AS target_deleted
    FROM identity_links l
    LEFT JOIN {table} c ON c.id = l.platform_id
    WHERE l.platform = $platform
),
contact_records AS (
    SELECT 'highlevel' AS platform, id, is_deleted FROM ghl_contacts
    UNION ALL
    SELECT 'sendapp', id, is_deleted FROM sendapp_contacts
),
elsewhere AS (
    SELECT l.person_id,
           bool_or(NOT coalesce(r.is_deleted, false)) AS any_live,
           bool_or(coalesce(r.is_deleted, false)) AS any_deleted
    FROM identity_links l
    LEFT JOIN contact_records r ON r.platform = l.platform AND r.id = l.platform_id
    WHERE l.platform <> $platform AND l.platform IN ('highlevel', 'sendapp')
    GROUP BY l.person_id
),
state AS (
    SELECT g.person_id, g.email, g.phone, g.first_name, g.last_name, g.tags,
           t.platform_id, coalesce(t.target_deleted, false) AS target_deleted,
           v.platform_id IS NOT NULL AS observed,
           v.email AS v_email, v.phone AS v_phone, v.first_name AS v_first_name, v.last_name AS v_last_name,
           v.tags AS v_tags, v.version,
           s.fields AS acked, s.target_version,
           coalesce(e.any_deleted AND NOT e.any_live, false) AS upstream_deleted,
           v.platform_id IS NOT NULL AND (s.target_version IS NULL OR v.version >= s.target_version) AS use_observed,
           -- two EXISTS, not one with OR: each is a hash join (an OR made it a nested loop, quadratic in people)
           t.platform_id IS NULL AND (
               EXISTS (SELECT 1 FROM contact_values k
                       WHERE k.platform = $platform AND k.phone = g.phone AND k.person_id <> g.person_id)
               OR EXISTS (SELECT 1 FROM contact_values k
                          WHERE k.platform = $platform AND k.email = g.email AND k.person_id <> g.person_id)
           ) AS key_taken
    FROM golden_contacts g
    LEFT JOIN target_links t ON t.person_id = g.person_id
    LEFT JOIN contact_values v ON v.platform = $platform AND v.platform_id = t.platform_id
    LEFT JOIN target_snapshots s ON s.platform = $platform AND s.person_id = g.person_id
    LEFT JOIN elsewhere e ON e.person_id = g.person_id
)
SELECT person_id, email, phone, first_name, last_name, tags, platform_id, target_deleted, observed,
       v_email, v_phone, v_first_name, v_last_name, v_tags, version, acked, target_version, upstream_deleted,
       key_taken
FROM state
WHERE (platform_id IS NULL AND $can_create AND (phone IS NOT NULL OR (email IS NOT NULL AND NOT $needs_phone)))
   OR (platform_id IS NOT NULL AND (target_deleted OR upstream_deleted))
   OR (platform_id IS NOT NULL AND NOT target_deleted AND (
      (email IS NOT NULL AND email IS DISTINCT FROM
       CASE WHEN use_observed THEN v_email ELSE acked ->> 'email' END)
      OR (phone IS NOT NULL AND phone IS DISTINCT FROM
       CASE WHEN use_observed THEN v_phone ELSE acked ->> 'phone' END)
      OR (first_name IS NOT NULL AND first_name IS DISTINCT FROM
       CASE WHEN use_observed THEN v_first_name ELSE acked ->> 'first_name' END)
      OR (last_name IS NOT NULL AND last_name IS DISTINCT FROM
       CASE WHEN use_observed THEN v_last_name ELSE acked ->> 'last_name' END)
      OR (len(coalesce(tags, [])) > 0 AND list_sort(tags) IS DISTINCT FROM
       CASE WHEN use_observed THEN list_sort(v_tags) ELSE CAST(acked -> 'tags' AS VARCHAR[]) END)))
ORDER BY person_id;
