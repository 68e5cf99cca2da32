"""The thin Dagster layer: resources, partitions, assets, schedules. Logic lives in the layers below."""
