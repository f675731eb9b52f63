"""Evaluations of stored LLM calls: offline (builtin) scorers and LLM-judge scoring."""
