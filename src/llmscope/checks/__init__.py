"""Checks: alert rules evaluated against the store, for CI exit codes and notifications."""
