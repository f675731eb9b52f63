"""Live ingestion: OTLP/HTTP and OTLP/gRPC receivers writing into the store (see :mod:`.server`)."""

from .server import Collector, CollectorConfig, CollectorError

__all__ = ["Collector", "CollectorConfig", "CollectorError"]
