"""Access control for the operator API and, later, the dashboard."""
