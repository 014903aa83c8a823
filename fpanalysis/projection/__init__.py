"""Projection: year-end nowcast, life tables and cohort-component projection."""
