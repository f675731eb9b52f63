"""llmscope: find the silent failures of LLM applications in their OpenTelemetry traces."""

from ._native import use_fresh_sources

use_fresh_sources()  # a compiled module whose source was edited since the build: run the source
