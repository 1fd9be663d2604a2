"""`afterglow backtest`: the clinical rules replayed over a recorded history (see the README)."""
