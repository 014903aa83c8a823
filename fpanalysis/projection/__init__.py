"""Projection: year-end nowcast and cohort-component projection."""
