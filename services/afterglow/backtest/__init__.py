"""`afterglow backtest`: the clinical rules replayed over a recorded history (contract.md §1)."""
