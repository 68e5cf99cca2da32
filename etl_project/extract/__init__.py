"""Extraction runs: page through a platform's API for one window and land each page. No Dagster here."""
