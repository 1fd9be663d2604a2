"""The check-in planner (clinical-rules.md §5): pure functions, `now` always a parameter."""
