"""Normalize: the dialect table and the code that applies it, turning decoded spans and log records
of any instrumentation into canonical rows; privacy (redaction, hashing) on the way."""
