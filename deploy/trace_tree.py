"""A small OTLP/HTTP trace receiver and a printer of one trace as an indented tree.

    python -m deploy.trace_tree collect --port 4318 --out .local/spans.jsonl
        receives spans (point the services' OTEL_EXPORTER_OTLP_ENDPOINT at http://127.0.0.1:4318)
    python -m deploy.trace_tree show .local/spans.jsonl --trace-id <32 hex digits>
        prints that trace (a case's trace id is in its audit history); without --trace-id, the last one

For a look at one case on a developer machine; a county runs a real collector (Jaeger, Tempo …).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int


def decode(body: bytes) -> list[Span]:
    """The spans of one ExportTraceServiceRequest (protobuf, as the OTLP/HTTP exporters send it)."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = next((a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "?")
        for scope_spans in resource_spans.scope_spans:
            spans += [Span(trace_id=s.trace_id.hex(), span_id=s.span_id.hex(), parent_span_id=s.parent_span_id.hex(),
                           service=service, name=s.name, kind=KINDS.get(s.kind, "unspecified"),
                           start_ns=s.start_time_unix_nano, end_ns=s.end_time_unix_nano)
                      for s in scope_spans.spans]
    return spans


class Receiver:
    """Serves POST /v1/traces on 127.0.0.1:`port` in a thread and keeps every span received."""

    def __init__(self, port: int = 0, out: Path | None = None) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                receiver.add(decode(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        self._out = out
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, spans: list[Span]) -> None:
        with self._lock:
            self.spans += spans
            if self._out is not None:
                with self._out.open("a") as f:
                    f.writelines(json.dumps(asdict(s)) + "\n" for s in spans)

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def tree(spans: Iterable[Span]) -> str:
    """One line per span, children indented under their parent, siblings by start time:
    `+12.3 ms  bianmin-routing  consumer  bianmin.intake.cases.v1 process  (4.1 ms)`."""
    spans = sorted(spans, key=lambda s: s.start_ns)
    if not spans:
        return ""
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = {}
    for s in spans:
        children.setdefault(s.parent_span_id if s.parent_span_id in ids else "", []).append(s)
    origin, lines = spans[0].start_ns, []

    def walk(parent: str, depth: int) -> None:
        for s in children.get(parent, []):
            lines.append(f"{(s.start_ns - origin) / 1e6:+8.1f} ms  {'  ' * depth}{s.service}  {s.kind}  {s.name}"
                         f"  ({(s.end_ns - s.start_ns) / 1e6:.1f} ms)")
            walk(s.span_id, depth + 1)

    walk("", 0)
    return "\n".join(lines)


def _load(path: Path) -> list[Span]:
    return [Span(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Receive OTLP/HTTP spans; print one trace as a tree.")
    commands = parser.add_subparsers(dest="command", required=True)
    collect = commands.add_parser("collect", help="receive spans and append them to a JSON-lines file")
    collect.add_argument("--port", type=int, default=4318)
    collect.add_argument("--out", type=Path, default=Path(".local/spans.jsonl"))
    show = commands.add_parser("show", help="print one trace from such a file")
    show.add_argument("file", type=Path)
    show.add_argument("--trace-id", help="32 hex digits; default: the trace of the last span received")
    args = parser.parse_args(argv)
    if args.command == "collect":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        receiver = Receiver(args.port, out=args.out).start()
        print(f"receiving OTLP/HTTP spans on {receiver.endpoint}/v1/traces into {args.out}; Ctrl-C stops")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            receiver.stop()
        return 0
    spans = _load(args.file)
    if not spans:
        print(f"no spans in {args.file}", file=sys.stderr)
        return 1
    trace_id = args.trace_id or spans[-1].trace_id
    print(f"trace {trace_id}")
    print(tree(s for s in spans if s.trace_id == trace_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
