"""Afterglow: follow-up and outcome monitoring after ketamine infusions."""
