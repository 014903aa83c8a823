"""Data-quality checks (issue 9). The lead replaces this placeholder with the re-exports."""
