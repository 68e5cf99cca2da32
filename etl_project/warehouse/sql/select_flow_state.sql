SELECT started_at FROM flow_state WHERE flow = $flow;
