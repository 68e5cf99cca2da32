SELECT person_id, email, phone, first_name, last_name, tags FROM golden_contacts ORDER BY person_id;
