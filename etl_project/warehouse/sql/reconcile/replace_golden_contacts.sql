INSERT INTO golden_contacts
SELECT person_id, email, phone, first_name, last_name, tags, platforms, field_sources::JSON, $computed_at
FROM golden;
