"""Tenants: the HighLevel locations one deployment syncs, each with its own accounts, data folder and state.

No Dagster here: `config` reads the locations file, `registry` keeps each location's status (active or paused, and
why), `resolve` turns a location id into its credentials and paths, `discovery` fills the registry from an agency's
Company grant. `defs/locations.py` ties this to Dagster (run tags, schedules, sensors).
"""
