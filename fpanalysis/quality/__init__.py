"""Data quality checks (placeholder: the lead writes the re-exports)."""
