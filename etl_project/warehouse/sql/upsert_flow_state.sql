INSERT INTO flow_state VALUES ($flow, $now) ON CONFLICT (flow) DO NOTHING;
