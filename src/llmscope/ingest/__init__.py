"""Ingest: find sources, decode OTLP (JSON lines, JSON documents, protobuf, gzip), normalize on
every core, load in one transaction."""
