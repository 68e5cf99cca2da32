INSERT INTO contact_values
SELECT platform, platform_id, person_id, email, phone, first_name, last_name, tags::VARCHAR[], version::TIMESTAMPTZ
FROM current_values;
