"""OTLP/gRPC beside OTLP/HTTP (default port 4317): ``TraceService/Export`` and ``LogsService/Export``.

The same contract as HTTP (:mod:`.intake`: normalized in a worker, spooled and fsynced, then
acknowledged; ``partial_success`` for rejected records). gzip is gRPC's own message compression
(``grpc-encoding: gzip``), which grpcio undoes before the handler; messages are capped at
``max_body_bytes`` (grpcio answers RESOURCE_EXHAUSTED beyond). ``--token`` is checked against the
``authorization`` metadata (``Bearer TOKEN``). Status codes as the OTLP spec maps them:

=================  ===================================================================
INVALID_ARGUMENT   the message is not an export request, or every record in it is bad
UNAUTHENTICATED    missing or wrong token
UNAVAILABLE        spool full, too much in flight, spool write failed, shutting down
                   (retryable; a ``google.rpc.RetryInfo`` says after how long)
RESOURCE_EXHAUSTED the store writer lags (retryable, with RetryInfo); a message inflating
                   past the cap (not retryable: no RetryInfo)
=================  ===================================================================

grpcio is an optional extra: ``pip install 'llmscope[grpc]'``.
"""

from __future__ import annotations

import collections
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from .intake import Intake, Refusal
from .metrics import Metrics
from .spool import CT_PROTOBUF, SIG_LOGS, SIG_TRACES
from .spool import CollectorError as _CollectorError

log = logging.getLogger("llmscope.collect")

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"
INSTALL_HINT = "OTLP/gRPC needs grpcio: pip install 'llmscope[grpc]' (or --grpc-port 0 for HTTP only)"


def _grpc():
    try:
        import grpc
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:
        raise _CollectorError(INSTALL_HINT) from None
    return grpc, status_pb2, error_details_pb2


class GrpcFront:
    def __init__(self, cfg, intake: Intake, metrics: Metrics):
        grpc, self._status_pb2, self._details_pb2 = _grpc()
        self._grpc = grpc
        self.cfg = cfg
        self.intake = intake
        self.metrics = metrics

        class Status(collections.namedtuple("Status", ("code", "details", "trailing_metadata")), grpc.Status):
            """grpc.Status with trailing metadata (google.rpc.Status details), as grpcio-status builds it."""

        self._Status = Status
        code = grpc.StatusCode
        self._codes = {
            "invalid": code.INVALID_ARGUMENT,
            "unauthenticated": code.UNAUTHENTICATED,
            "too_large": code.RESOURCE_EXHAUSTED,
            "lagging": code.RESOURCE_EXHAUSTED,
            "overloaded": code.UNAVAILABLE,
            "spool_full": code.UNAVAILABLE,
            "spool_failed": code.UNAVAILABLE,
            "shutting_down": code.UNAVAILABLE,
            "internal": code.INTERNAL,
        }
        threads = max(4, cfg.grpc_threads)
        self.server = grpc.server(
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="llmscope-grpc"),
            # beyond this many RPCs at once grpcio answers RESOURCE_EXHAUSTED itself: memory stays bounded
            maximum_concurrent_rpcs=threads * 2,
            options=[
                ("grpc.max_receive_message_length", cfg.max_body_bytes),
                ("grpc.max_send_message_length", 1 << 20),
                ("grpc.so_reuseport", 0),
            ],
        )
        self.server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    TRACE_SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(self._export_traces)}
                ),
                grpc.method_handlers_generic_handler(
                    LOGS_SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(self._export_logs)}
                ),
            )
        )
        host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        try:
            self.port = self.server.add_insecure_port(f"{host}:{cfg.grpc_port}")
        except RuntimeError as e:
            raise OSError(f"cannot listen for OTLP/gRPC on {cfg.host}:{cfg.grpc_port}: {e}") from None
        if not self.port:
            raise OSError(f"cannot listen for OTLP/gRPC on {cfg.host}:{cfg.grpc_port} (address in use?)")

    def start(self) -> None:
        self.server.start()

    def stop(self, grace: float = 5.0) -> None:
        self.server.stop(grace).wait(grace + 1)

    # ------------------------------------------------------------------ the two methods

    def _export_traces(self, request: bytes, context) -> bytes:
        return self._export(request, context, SIG_TRACES)

    def _export_logs(self, request: bytes, context) -> bytes:
        return self._export(request, context, SIG_LOGS)

    def _export(self, request: bytes, context, sig: int) -> bytes:
        t0 = time.perf_counter()
        signal = "logs" if sig == SIG_LOGS else "traces"
        reserved = 0
        try:
            auth = next((v for k, v in context.invocation_metadata() if k == "authorization"), None)
            if not self.intake.authorized(auth):
                raise Refusal("unauthenticated", "missing or wrong bearer token in the authorization metadata")
            self.intake.admit()
            self.intake.reserve(len(request))
            reserved = len(request)
            acc = self.intake.accept(request, CT_PROTOBUF, sig, "identity")
        except Refusal as r:
            self.metrics.request("grpc", signal, r.http_status, r.kind, time.perf_counter() - t0)
            context.abort_with_status(self._status(r))
            raise AssertionError("unreachable") from None  # abort_with_status raises
        finally:
            if reserved:
                self.intake.release(reserved)
        self.metrics.request(
            "grpc", signal, 200, "ok", time.perf_counter() - t0, acc.spans, acc.error_spans, acc.tokens
        )
        return _response(sig, acc.rejected, acc.message)

    def _status(self, r: Refusal):
        code = self._codes.get(r.kind, self._grpc.StatusCode.UNKNOWN)
        status = self._status_pb2.Status(code=code.value[0], message=r.message)
        if r.retry_after is not None and code in (
            self._grpc.StatusCode.UNAVAILABLE,
            self._grpc.StatusCode.RESOURCE_EXHAUSTED,
        ):
            info = self._details_pb2.RetryInfo()
            info.retry_delay.seconds = int(r.retry_after)
            status.details.add().Pack(info)
        return self._Status(code, r.message, (("grpc-status-details-bin", status.SerializeToString()),))


def _response(sig: int, rejected: int, message: str) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    if sig == SIG_LOGS:
        resp = ExportLogsServiceResponse()
        if rejected:
            resp.partial_success.rejected_log_records = rejected
            resp.partial_success.error_message = message
    else:
        resp = ExportTraceServiceResponse()
        if rejected:
            resp.partial_success.rejected_spans = rejected
            resp.partial_success.error_message = message
    return resp.SerializeToString()
