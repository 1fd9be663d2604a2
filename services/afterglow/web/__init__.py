"""The web process: health, metrics, and (later) webhooks and the clinician dashboard."""
