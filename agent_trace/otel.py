"""OpenTelemetry bridge: a run's thread events as GenAI spans (the ``otel`` extra).

``Recorder(..., emitters=[otlp_emitter(model_id=...)])``; see ``docs/otel.md``. Importing
this module works without OpenTelemetry; creating an emitter then raises ImportError.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from . import __version__
from . import events as ev
from ._git import GitError, Repository, find_repository
from .events._privacy import Capture, PrivacyPolicy, safe_url

_MISSING: ImportError | None
try:
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode

    _MISSING = None
except ImportError as exc:  # the 'otel' extra is not installed
    _MISSING = exc

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider
    from opentelemetry.util.types import AttributeValue

    from ._link import LinkResult

__all__ = ["OtelEmitter", "otlp_emitter"]

log = logging.getLogger("agent_trace")

INSTALL_HINT = "agent_trace.otel needs the 'otel' extra: pip install 'agent-trace[otel]'"

# GenAI, VCS, code and error attributes of the semantic conventions.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
VCS_REPOSITORY_URL_FULL = "vcs.repository.url.full"
VCS_REF_HEAD_REVISION = "vcs.ref.head.revision"
VCS_REF_HEAD_NAME = "vcs.ref.head.name"
CODE_FILE_PATH = "code.file.path"
PROCESS_EXIT_CODE = "process.exit.code"
ERROR_TYPE = "error.type"
# Ours (no convention covers them).
AGENT_TRACE_RUN_ID = "agent_trace.run.id"
AGENT_TRACE_RECORD_ID = "agent_trace.record.id"
AGENT_TRACE_RUN_IDS = "agent_trace.run.ids"  # the runs whose lines a linked record holds
AGENT_TRACE_FILES = "agent_trace.files"
AGENT_TRACE_CHANGE_KINDS = "agent_trace.change.kinds"
AGENT_TRACE_ITEM_ID = "agent_trace.item.id"
AGENT_TRACE_TEXT_LENGTH = "agent_trace.text.length"
AGENT_TRACE_LINES = "agent_trace.lines."  # + ai, human, mixed, unknown
LINK_SPAN = "agent_trace.link"

_FAILED = ("failed", "declined")
_ERROR_NAME = re.compile(r"((?:[A-Za-z_]\w*\.)*[A-Z]\w*): ")


def _error_type(message: str) -> str:
    """``KeyError`` for ``"KeyError: ..."`` (how the recorder words errors), else ``_OTHER``."""
    match = _ERROR_NAME.match(message)
    return match.group(1) if match else "_OTHER"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _tool(item: ev.ThreadItem) -> tuple[str, str] | None:
    """``(gen_ai.tool.name, gen_ai.tool.type)`` of a tool item, ``None`` for other items."""
    if isinstance(item, ev.CommandExecutionItem):
        return "shell", "function"
    if isinstance(item, ev.ToolInvocationItem):
        return item.tool_name, "function"
    if isinstance(item, ev.McpToolCallItem):
        return item.tool or item.tool_name or "", "extension"
    if isinstance(item, ev.WebSearchItem):
        return "web_search", "function"
    if isinstance(item, ev.FileChangeItem):
        return "apply_patch", "function"
    return None


def _usage(usage: ev.Usage) -> dict[str, AttributeValue]:
    return {
        GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
        GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cached_input_tokens,
    }


class _Options(TypedDict, total=False):
    agent_name: str
    model_id: str | None
    provider_name: str | None
    repo: str | os.PathLike[str] | None
    privacy: PrivacyPolicy | None
    capture_content: bool | None


class OtelEmitter:
    """An event emitter that turns a run's thread events into OpenTelemetry spans.

    ``invoke_agent`` per thread, ``chat`` per turn, ``execute_tool`` per tool item and
    ``agent_trace.link`` per linked commit (:meth:`on_link`), following the GenAI
    semantic conventions. Events carry no run id: feed one run at a time (runs one after
    the other are fine). Thread-safe; never raises for an event.

    Every event goes through ``privacy`` (:meth:`PrivacyPolicy.apply
    <agent_trace.events.PrivacyPolicy.apply>`, what the recorder applies to its events
    file) before any span sees it, and spans hold content only of the kinds it captures:
    by default ``PrivacyPolicy()``, no content and secrets redacted. ``capture_content``
    is the older switch: ``True`` is ``privacy=PrivacyPolicy(capture="all")`` (every
    kind, secrets still redacted), ``False`` the default; not both. Events the recorder
    already filtered come out the same (the policy is idempotent).

    ``tracer_provider`` defaults to the global one; ``model_id`` is ``provider/model``
    (``provider_name`` overrides the provider); ``repo`` adds ``vcs.*`` attributes.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        agent_name: str = "agent",
        model_id: str | None = None,
        provider_name: str | None = None,
        repo: str | os.PathLike[str] | None = None,
        privacy: PrivacyPolicy | None = None,
        capture_content: bool | None = None,
    ) -> None:
        if _MISSING is not None:
            raise ImportError(INSTALL_HINT) from _MISSING
        if privacy is None:
            privacy = PrivacyPolicy(capture="all" if capture_content else "none")
        elif capture_content is not None:
            raise ValueError(
                "OtelEmitter takes privacy or capture_content, not both "
                "(capture_content=True is privacy=PrivacyPolicy(capture='all'))"
            )
        provider, slash, model = (model_id or "").partition("/")
        self.agent_name = agent_name
        self.request_model = (model if slash else provider) or None
        self.provider_name = provider_name or (provider if slash else None)
        self.repo = repo
        self.privacy = privacy
        """What of each event the spans may hold (applied before anything else)."""
        self._tracer = trace.get_tracer("agent_trace", str(__version__), tracer_provider)
        self._lock = threading.Lock()
        self._root: Span | None = None
        self._last_root: SpanContext | None = None
        self._conversation: str | None = None
        self._turn: Span | None = None
        self._tools: dict[str, tuple[Span, ev.ThreadItem]] = {}
        self._repository: Repository | None = None
        self._url: str | None = None
        self._looked = False
        self._closed = False
        self._on_close: Callable[[], None] | None = None

    # ------------------------------------------------------------------ public

    @property
    def capture_content(self) -> bool:
        """Whether the policy captures every kind of content (``capture_content=True``)."""
        return self.privacy.capture == frozenset(Capture)

    def __call__(self, event: ev.ThreadEvent, /) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._handle(event)
            except Exception as exc:  # noqa: BLE001 - an odd event must not stop the agent
                log.warning("agent-trace: no span for %s: %s", type(event).__name__, exc)

    def on_link(self, result: LinkResult) -> None:
        """Record a linked commit: a span ``agent_trace.link`` under the run's span (or,
        once the run ended, in a new trace linked to it) and an event on the run's span."""
        with self._lock:
            if self._closed:
                return
            try:
                self._link(result)
            except Exception as exc:  # noqa: BLE001 - linking must not fail because of spans
                log.warning("agent-trace: no span for the link of %s: %s", result.commit, exc)

    def close(self) -> None:
        """End the spans still open (status unset); later events are ignored. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._end_children()
            if self._root is not None:
                self._root.end()
                self._root = None
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> OtelEmitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ events

    def _handle(self, event: ev.ThreadEvent) -> None:
        # Spans are made from what the policy keeps, and from nothing else: an event the
        # recorder already filtered with the same policy makes the same spans.
        event = self.privacy.apply(event)
        if isinstance(event, ev.ThreadStartedEvent):
            self._start_thread(event.thread_id)
        elif isinstance(event, ev.ThreadCompletedEvent):
            failed = None if event.subtype == "success" else str(event.subtype)
            self._end_thread(event.usage, failed, None)
        elif isinstance(event, ev.ThreadErrorEvent):
            self._end_thread(None, _error_type(event.message), self._message(event.message))
        elif isinstance(event, ev.TurnStartedEvent):
            if self._turn is not None:
                self._turn.end()
            name = f"chat {self.request_model}" if self.request_model else "chat"
            self._turn = self._start(name, "chat", self._root, {})
        elif (
            isinstance(event, ev.TurnCompletedEvent | ev.TurnFailedEvent) and self._turn is not None
        ):
            if event.usage is not None:
                self._turn.set_attributes(_usage(event.usage))
            if isinstance(event, ev.TurnFailedEvent):
                message = event.error_message
                self._fail(self._turn, _error_type(message), self._message(message))
            self._turn.end()
            self._turn = None
        elif isinstance(event, ev.ItemStartedEvent | ev.ItemUpdatedEvent | ev.ItemCompletedEvent):
            self._item(event.item, completed=isinstance(event, ev.ItemCompletedEvent))

    def _keeps(self, kind: Capture) -> bool:
        """Whether spans may hold content of ``kind`` (the policy captures it)."""
        return kind in self.privacy.capture

    def _message(self, message: str | None) -> str | None:
        """An error message of a turn or run, for its status: kept with ``messages``."""
        return message if self._keeps(Capture.MESSAGES) else None

    def _start(
        self, name: str, operation: str, parent: Span | None, attrs: dict[str, AttributeValue]
    ) -> Span:
        attrs = {GEN_AI_OPERATION_NAME: operation, **attrs}
        if self._conversation is not None:
            attrs[GEN_AI_CONVERSATION_ID] = self._conversation
        if operation != "execute_tool":
            if self.provider_name:
                attrs[GEN_AI_PROVIDER_NAME] = self.provider_name
            if self.request_model:
                attrs[GEN_AI_REQUEST_MODEL] = self.request_model
        context = trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(
            name, context=context, kind=SpanKind.INTERNAL, attributes=attrs
        )

    def _fail(self, span: Span, error_type: str, description: str | None) -> None:
        """ERROR status; ``description`` (content the policy let through) or the type."""
        span.set_attribute(ERROR_TYPE, error_type)
        span.set_status(Status(StatusCode.ERROR, description or error_type))

    def _start_thread(self, thread_id: str) -> None:
        if self._root is not None:  # the previous run never said it ended
            self._end_children()
            self._root.end()
        self._conversation = thread_id
        attrs: dict[str, AttributeValue] = {GEN_AI_AGENT_NAME: self.agent_name}
        attrs[AGENT_TRACE_RUN_ID] = thread_id
        attrs.update(self._vcs())
        self._root = self._start(f"invoke_agent {self.agent_name}", "invoke_agent", None, attrs)
        self._last_root = self._root.get_span_context()

    def _end_thread(
        self, usage: ev.Usage | None, error: str | None, description: str | None
    ) -> None:
        root = self._root
        if root is None:
            return
        self._end_children()
        if usage is not None:
            root.set_attributes(_usage(usage))
        if error is None:
            root.set_status(Status(StatusCode.OK))
        else:
            self._fail(root, error, description)
        root.end()
        self._root = None

    def _end_children(self) -> None:
        for span, item in self._tools.values():
            self._end_tool(span, item, completed=False)
        self._tools.clear()
        if self._turn is not None:
            self._turn.end()
            self._turn = None

    # ------------------------------------------------------------------ items

    def _item(self, item: ev.ThreadItem, *, completed: bool) -> None:
        if isinstance(item, ev.AgentMessageItem | ev.ReasoningItem | ev.PlanItem):
            if completed:
                self._text_event(item)
            return
        tool = _tool(item)
        if tool is None:
            return
        entry = self._tools.pop(item.id, None)
        if entry is None:
            name, kind = tool
            attrs: dict[str, AttributeValue] = {
                GEN_AI_TOOL_NAME: name,
                GEN_AI_TOOL_TYPE: kind,
                GEN_AI_TOOL_CALL_ID: item.id,
            }
            arguments = self._arguments(item)
            if arguments is not None:
                attrs[GEN_AI_TOOL_CALL_ARGUMENTS] = arguments
            span = self._start(
                f"execute_tool {name}", "execute_tool", self._turn or self._root, attrs
            )
        else:
            span = entry[0]
        if completed:
            self._end_tool(span, item, completed=True)
        else:
            self._tools[item.id] = (span, item)

    def _arguments(self, item: ev.ThreadItem) -> str | None:
        """``gen_ai.tool.call.arguments``: with ``tool_io`` (a command is the shell's)."""
        if not self._keeps(Capture.TOOL_IO):
            return None
        if isinstance(item, ev.CommandExecutionItem):
            return item.command
        if isinstance(item, ev.WebSearchItem):
            return item.query
        if (
            isinstance(item, ev.ToolInvocationItem | ev.McpToolCallItem)
            and item.arguments is not None
        ):
            return _text(item.arguments)
        return None

    def _end_tool(self, span: Span, item: ev.ThreadItem, *, completed: bool) -> None:
        """Final attributes from the item's last state; status only when it completed."""
        status = str(getattr(item, "status", None) or "")
        error = status if status in _FAILED else None
        result: Any = None
        description: str | None = None
        tool_io = self._keeps(Capture.TOOL_IO)
        if isinstance(item, ev.CommandExecutionItem):
            if item.exit_code is not None:
                span.set_attribute(PROCESS_EXIT_CODE, item.exit_code)
                if error is None and item.exit_code != 0:
                    error = "nonzero_exit_code"
            if self._keeps(Capture.COMMAND_OUTPUT):
                result = item.aggregated_output or None
        elif isinstance(item, ev.FileChangeItem):
            paths = [change.path for change in item.changes]
            if len(paths) == 1:
                span.set_attribute(CODE_FILE_PATH, paths[0])
            else:
                span.set_attribute(AGENT_TRACE_FILES, paths)
            span.set_attribute(AGENT_TRACE_CHANGE_KINDS, [str(c.kind) for c in item.changes])
        elif isinstance(item, ev.McpToolCallItem):
            if tool_io:  # a failed call's error message is part of its result
                result = item.result
                description = item.error.message if item.error is not None else None
        elif isinstance(item, ev.ToolInvocationItem):
            if error is not None and item.outcome is not None:
                error = str(item.outcome)
        elif isinstance(item, ev.WebSearchItem) and tool_io:
            result = item.results
        if result is not None:
            span.set_attribute(GEN_AI_TOOL_CALL_RESULT, _text(result))
        if completed and error is not None:
            self._fail(span, error, description)
        span.end()

    def _text_event(self, item: ev.AgentMessageItem | ev.ReasoningItem | ev.PlanItem) -> None:
        span = self._turn or self._root
        if span is None:
            return
        attrs: dict[str, AttributeValue] = {
            AGENT_TRACE_ITEM_ID: item.id,
            AGENT_TRACE_TEXT_LENGTH: len(item.text),  # of the text kept: 0 when not captured
        }
        kind = Capture.REASONING if isinstance(item, ev.ReasoningItem) else Capture.MESSAGES
        if self._keeps(kind):
            part = {"type": "reasoning" if isinstance(item, ev.ReasoningItem) else "text"}
            message = {"role": "assistant", "parts": [{**part, "content": item.text}]}
            attrs[GEN_AI_OUTPUT_MESSAGES] = json.dumps([message])
        if isinstance(item, ev.AgentMessageItem):
            span.add_event("gen_ai.agent.message", attrs)
        else:
            span.add_event(
                "gen_ai.reasoning" if isinstance(item, ev.ReasoningItem) else "gen_ai.plan", attrs
            )

    # ------------------------------------------------------------------ links and git

    def _link(self, result: LinkResult) -> None:
        attrs: dict[str, AttributeValue] = {VCS_REF_HEAD_REVISION: result.commit}
        if result.record is not None:
            attrs[AGENT_TRACE_RECORD_ID] = result.record.id
            details = result.record.ours.get("conversations")
            runs = [d.get("run_id") for d in details or () if isinstance(d, dict)]
            attrs[AGENT_TRACE_RUN_IDS] = sorted({r for r in runs if isinstance(r, str)})
        for kind in ("ai", "human", "mixed", "unknown"):
            attrs[AGENT_TRACE_LINES + kind] = getattr(result, f"{kind}_lines")
        if self._conversation is not None:
            attrs[GEN_AI_CONVERSATION_ID] = self._conversation
        if self._url is not None:
            attrs[VCS_REPOSITORY_URL_FULL] = self._url
        if self._root is not None:
            context = trace.set_span_in_context(self._root)
            span = self._tracer.start_span(LINK_SPAN, context=context, attributes=attrs)
            self._root.add_event(LINK_SPAN, attrs)
        else:
            links = [Link(self._last_root)] if self._last_root is not None else []
            span = self._tracer.start_span(
                LINK_SPAN, context=Context(), links=links, attributes=attrs
            )
        span.end()

    def _vcs(self) -> dict[str, AttributeValue]:
        """``vcs.*`` of ``repo``: the origin URL (looked up once), HEAD and its branch."""
        if self.repo is None:
            return {}
        attrs: dict[str, AttributeValue] = {}
        try:
            if not self._looked:
                self._looked = True
                self._repository = find_repository(self.repo)
                remote = self._repository.git.run(
                    "remote", "get-url", "origin", ok_codes=(0, 1, 2, 128)
                )
                url = remote.stdout.decode("utf-8", "replace").strip()
                ok = remote.returncode == 0 and url
                self._url = safe_url(url, self.privacy.redactor) if ok else None
            repository = self._repository
            if repository is None:
                return {}
            if self._url is not None:
                attrs[VCS_REPOSITORY_URL_FULL] = self._url
            head = repository.read_head()
            if head is not None:
                attrs[VCS_REF_HEAD_REVISION] = head
            branch = repository.git.run(
                "symbolic-ref", "--quiet", "--short", "HEAD", ok_codes=(0, 1, 128)
            )
            name = branch.stdout.decode("utf-8", "replace").strip()
            if branch.returncode == 0 and name:
                attrs[VCS_REF_HEAD_NAME] = name
        except (GitError, OSError) as exc:
            log.debug("agent-trace: no vcs attributes for %s: %s", self.repo, exc)
        return attrs


def otlp_emitter(
    endpoint: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **kwargs: Unpack[_Options],
) -> OtelEmitter:
    """An :class:`OtelEmitter` (``kwargs`` as there) exporting over OTLP/HTTP (protobuf)
    through its own tracer provider.

    ``endpoint`` and ``headers`` default to the ``OTEL_EXPORTER_OTLP_*`` variables;
    ``service.name`` is ``agent-trace`` unless ``OTEL_SERVICE_NAME`` (or
    ``OTEL_RESOURCE_ATTRIBUTES``) sets one. Its ``close()`` flushes and shuts the
    provider down.
    """
    if _MISSING is not None:
        raise ImportError(INSTALL_HINT) from _MISSING
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "agent-trace"}))
    provider = SdkTracerProvider(resource=resource)
    emitter = OtelEmitter(tracer_provider=provider, **kwargs)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint, headers=headers)))

    def shutdown() -> None:
        provider.force_flush()
        provider.shutdown()

    emitter._on_close = shutdown
    return emitter
