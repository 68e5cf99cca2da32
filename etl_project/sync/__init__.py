"""The pure sync core: normalise, match identities, merge into golden records. No I/O, no Dagster."""
