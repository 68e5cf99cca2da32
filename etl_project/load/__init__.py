"""Write back: send the outbox's operations through the platform clients. No Dagster here."""
