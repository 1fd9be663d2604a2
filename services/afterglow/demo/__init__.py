"""The living demo clinic (`afterglow up --demo`, docs/operators.md, "Demo").

Fictional patients and clinicians act on simulated time from outside the pipeline, like
real phones: they read their simulated inbox and text back through the web process.
`personas` and `clinicians` are pure (the simulated `now` and a seeded random source are
parameters); `cast` describes the clinic; `runner` is the I/O loop.
"""
