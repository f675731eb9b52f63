"""The ``llmscope`` command."""
