"""Clinic outcomes for the medical director (docs/rules.md, "Clinic outcomes"): treatment
series, response and remission at weeks 4, 8 and 12, time to relapse (Kaplan-Meier),
boosters, check-in completion and alert burden. Pure: rows and `now` in, figures out."""
