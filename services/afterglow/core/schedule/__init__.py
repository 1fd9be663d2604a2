"""The check-in planner (docs/rules.md): pure functions, `now` always a parameter."""
