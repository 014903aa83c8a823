"""Data-quality checks (issue 9); the lead replaces this file with the package re-exports."""
