"""Collect: an OTLP receiver that spools every request before acknowledging it and writes the store
in batches."""
