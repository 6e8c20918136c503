"""Where a build's OpenLineage events go, and how their delivery went.

`LineageConfig` says where (``none``, ``console``, ``file:PATH``, an ``http(s)://`` URL);
`LineageRun` emits one build's START, then COMPLETE or FAIL, through the
`openlineage-python` client, and keeps what each delivery did. An endpoint that
cannot be reached never fails a build: each event is tried `attempts` times with
exponential backoff, and the outcome (delivered or not, attempts, the error) goes
into the build's result and, for START, its manifest.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from consentry.errors import InputError
from consentry.pipeline.sources import has_scheme

__all__ = ["TRANSPORTS", "Delivery", "LineageConfig", "LineageRun", "RunInfo", "dataset_name", "run_info"]

TRANSPORTS = ("none", "console", "file", "http")
DEFAULT_NAMESPACE = "consentry"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineageConfig:
    """Where OpenLineage events go: transport, its target (file path or URL) and delivery settings."""

    transport: str = "none"
    target: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    api_key: str | None = field(default=None, repr=False)
    attempts: int = 3
    backoff: float = 0.5
    timeout: float = 5.0

    @classmethod
    def parse(cls, spec: str | None, *, namespace: str | None = None, api_key: str | None = None) -> LineageConfig:
        """From ``none`` (or empty), ``console``, ``file:PATH`` or an ``http(s)://`` URL (`--lineage`,
        CONSENTRY_LINEAGE); InputError naming the option otherwise."""
        ns = namespace or DEFAULT_NAMESPACE
        text = (spec or "none").strip()
        if text in ("none", "console"):
            return cls(text, None, ns, api_key)
        if text.startswith("file:") and len(text) > len("file:"):
            return cls("file", str(Path(text[len("file:") :]).absolute()), ns, api_key)
        parts = urlsplit(text)
        if parts.scheme in ("http", "https") and parts.netloc:
            return cls("http", text, ns, api_key)
        given = f"{parts.scheme}://…" if parts.scheme else repr(text)  # a URL's credentials are not echoed
        raise InputError(
            f"{given} is not a lineage transport; use none, console, file:PATH or an http(s):// URL",
            field="--lineage",
        )

    def describe(self) -> dict[str, Any]:
        """For the manifest and the result: transport and target, a URL without credentials or query."""
        target = self.target
        if self.transport == "http" and target:
            p = urlsplit(target)
            host = p.hostname or ""
            target = urlunsplit((p.scheme, host if p.port is None else f"{host}:{p.port}", p.path, "", ""))
        return {"transport": self.transport, "target": target, "namespace": self.namespace}


@dataclass(frozen=True)
class RunInfo:
    """What every event of one build's run says: run, job, inputs, output and their columns."""

    run_id: str
    namespace: str
    job: str
    inputs: Sequence[tuple[str, str]]
    output: tuple[str, str]
    #: the columns the build reads from every source, (name, type)
    input_columns: Sequence[tuple[str, str]]
    engine: str
    scrubbed: bool
    #: the moment the build decided for (its as-of time), RFC 3339
    as_of: str


@dataclass
class Delivery:
    """How sending one event went."""

    event: str
    delivered: bool
    attempts: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"event": self.event, "delivered": self.delivered, "attempts": self.attempts, "error": self.error}


def run_info(
    *,
    run_id: str,
    namespace: str,
    purpose: str,
    sources: Sequence[str],
    out: str,
    pass_through: Sequence[str],
    engine: str,
    scrubbed: bool,
    as_of: str,
) -> RunInfo:
    """A build's run: sources as given in (the registry's form), OUT out, the columns it reads from each source."""
    from consentry.pipeline.sources import staged_schema

    staged = staged_schema(pass_through)
    return RunInfo(
        run_id=run_id,
        namespace=namespace,
        job=f"build.{purpose}",
        inputs=list(dict.fromkeys(dataset_name(s) for s in sources)),
        output=dataset_name(out),
        input_columns=[(f.name, str(f.type)) for f in staged if not f.name.startswith("_")],
        engine=engine,
        scrubbed=scrubbed,
        as_of=as_of,
    )


def dataset_name(spec: str) -> tuple[str, str]:
    """OpenLineage (namespace, name) of a path or URI: ``file`` and the absolute path, or ``scheme://authority``
    and the path."""
    if has_scheme(spec):
        p = urlsplit(spec)
        if p.scheme == "file":
            return "file", p.path
        return f"{p.scheme}://{p.netloc}", p.path or "/"
    return "file", os.path.abspath(spec)


class LineageRun:
    """One build's run: its id, the events it emits and how each delivery went."""

    def __init__(self, config: LineageConfig, info: RunInfo, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.info = info
        self.deliveries: list[Delivery] = []
        self._sleep = sleep
        self._client: Any = None

    @staticmethod
    def new_run_id() -> str:
        """A UUIDv7 (time-ordered), as OpenLineage recommends for run ids."""
        ms = time.time_ns() // 1_000_000
        raw = (ms << 80) | (0x7 << 76) | (int.from_bytes(os.urandom(10)) & ((1 << 76) - 1))
        raw = (raw & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
        return str(uuid.UUID(int=raw))

    def start(self, at: str) -> None:
        """Emit START."""
        if self.enabled:
            from consentry.pipeline.lineage_events import start_event

            self._emit("START", lambda: start_event(self.info, at))

    def fail(self, at: str, message: str) -> None:
        """Emit FAIL with the error's message (never raises)."""
        if self.enabled:
            from consentry.pipeline.lineage_events import fail_event

            self._emit("FAIL", lambda: fail_event(self.info, at, message))

    def complete(self, at: str, out_dir: Path, manifest_sha256: str) -> None:
        """Emit COMPLETE with the output's facets, from the manifest and the shards' schema in `out_dir`."""
        if self.enabled:
            from consentry.pipeline.lineage_events import complete_event
            from consentry.pipeline.manifest import output_columns, read_manifest

            def make() -> Any:
                manifest = read_manifest(out_dir)
                return complete_event(self.info, at, manifest, output_columns(out_dir, manifest), manifest_sha256)

            self._emit("COMPLETE", make)

    @property
    def enabled(self) -> bool:
        """False for transport ``none``: nothing is built or sent."""
        return self.config.transport != "none"

    def report(self) -> dict[str, Any]:
        """For the result and the manifest: where events went, the run id and every delivery."""
        failed = sum(1 for d in self.deliveries if not d.delivered)
        return {
            **self.config.describe(),
            "run_id": self.info.run_id,
            "job": self.info.job,
            "events": [d.to_dict() for d in self.deliveries],
            "failed": failed,
            "attempts": sum(d.attempts for d in self.deliveries),
        }

    def _emit(self, name: str, make: Callable[[], Any]) -> None:
        """Build and send one event, `attempts` times at most, sleeping backoff, 2×backoff, … between tries."""
        delivery = Delivery(name, False, 0)
        self.deliveries.append(delivery)
        try:
            event = make()
            client = self._client_for()
        except Exception as e:  # a broken event or transport is reported, never raised into the build
            delivery.error = _one_line(e)
            log.warning("OpenLineage %s event not built: %s", name, delivery.error)
            return
        for attempt in range(1, max(1, self.config.attempts) + 1):
            delivery.attempts = attempt
            try:
                client.emit(event)
            except Exception as e:  # unreachable endpoint, HTTP error, unwritable file
                delivery.error = _one_line(e)
                if attempt < self.config.attempts:
                    _pause(self.config.backoff * 2 ** (attempt - 1))
                continue
            delivery.delivered, delivery.error = True, None
            return
        log.warning(
            "OpenLineage %s event not delivered to %s after %d attempts: %s",
            name,
            self.config.describe()["target"],
            delivery.attempts,
            delivery.error,
        )

    def _client_for(self) -> Any:
        if self._client is None:
            self._client = _client(self.config)
        return self._client


def _pause(seconds: float) -> None:
    """Wait between delivery attempts."""
    time.sleep(seconds)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return f"{type(e).__name__}: {text}"[:500]


def _client(config: LineageConfig) -> Any:
    """An OpenLineage client with the configured transport (no environment or file configuration read)."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.serde import Serde
    from openlineage.client.transport import Transport
    from openlineage.client.transport.file import FileConfig, FileTransport
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport, TokenProvider

    class StderrTransport(Transport):  # the client's console transport logs at INFO: often nowhere
        kind = "console"

        def emit(self, event: Any) -> None:
            sys.stderr.write(Serde.to_json(event) + "\n")
            sys.stderr.flush()

    transport: Any
    if config.transport == "console":
        transport = StderrTransport()
    elif config.transport == "file":
        assert config.target is not None
        transport = FileTransport(FileConfig(log_file_path=config.target, append=True))
    else:
        assert config.target is not None
        auth = ApiKeyTokenProvider({"api_key": config.api_key}) if config.api_key else TokenProvider({})
        no_retries = {"total": 0, "read": 0, "connect": 0, "backoff_factor": 0, "status_forcelist": []}
        transport = HttpTransport(HttpConfig(url=config.target, timeout=config.timeout, auth=auth, retry=no_retries))
    return OpenLineageClient(transport=transport, config={"transport": {"type": transport.kind}})
