"""agent-trace: which lines came from which model, in which conversation, and which from humans.

The names below are the public API; they are loaded on first use, so ``import
agent_trace`` stays cheap. Subpackages: :mod:`agent_trace.events` (the thread-event
vocabulary, JSONL logs and emitters) and :mod:`agent_trace.cli` (the ``trace`` command).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._blame import BlameLine, BlameResult, blame_file, explain_line
    from ._doctor import Coverage, Problem, coverage, problems
    from ._gc import GcReport, collect_garbage
    from ._git import BadRevision, GitError, GitNotFound, NotAGitRepository
    from ._hashing import (
        content_hash,
        hash_matches,
        parse_content_hash,
        range_content_hash,
        split_lines,
    )
    from ._import import ImportOutcome, import_log
    from ._link import LinkResult, link_commit
    from ._model_ids import normalize_model_id
    from ._notes import NOTES_REF, NotesBackend
    from ._recorder import Recorder, current_recorder
    from ._records import (
        AGENT_TRACE_MIME_TYPE,
        AGENT_TRACE_VERSION,
        METADATA_NAMESPACE,
        Contributor,
        ContributorType,
        Conversation,
        Range,
        RecordDecodeError,
        RecordVersionWarning,
        RelatedResource,
        Tool,
        TraceFile,
        TraceRecord,
        Vcs,
        VcsType,
        new_record,
        record_from_dict,
        record_from_json,
        record_to_dict,
        record_to_json,
    )
    from ._report import CommitChange, CommitInfo, Report, ReportGroup, Tally
    from ._report_build import build_report
    from ._report_text import render_report
    from ._rewrite import relink_rewritten
    from ._runs import Run, RunManifest
    from ._store import FileBackend, TraceStore
    from ._stored import StoredRecord, StoreIssue, TraceBackend
    from ._validation import (
        RecordProblem,
        RecordReport,
        record_json_schema,
        validate_record,
        validate_records_file,
    )
    from ._wrap import RecordOutcome, record_command

__all__ = [
    "ImportOutcome",
    "RecordOutcome",
    "import_log",
    "record_command",
    "BlameLine",
    "BlameResult",
    "CommitChange",
    "CommitInfo",
    "Coverage",
    "GcReport",
    "LinkResult",
    "Problem",
    "Recorder",
    "Report",
    "ReportGroup",
    "Tally",
    "blame_file",
    "build_report",
    "collect_garbage",
    "coverage",
    "current_recorder",
    "explain_line",
    "link_commit",
    "problems",
    "relink_rewritten",
    "render_report",
    "AGENT_TRACE_MIME_TYPE",
    "AGENT_TRACE_VERSION",
    "METADATA_NAMESPACE",
    "NOTES_REF",
    "BadRevision",
    "Contributor",
    "ContributorType",
    "Conversation",
    "FileBackend",
    "GitError",
    "GitNotFound",
    "NotAGitRepository",
    "NotesBackend",
    "Range",
    "RecordDecodeError",
    "RecordProblem",
    "RecordReport",
    "RecordVersionWarning",
    "RelatedResource",
    "Run",
    "RunManifest",
    "StoreIssue",
    "StoredRecord",
    "Tool",
    "TraceBackend",
    "TraceFile",
    "TraceRecord",
    "TraceStore",
    "Vcs",
    "VcsType",
    "__version__",
    "content_hash",
    "hash_matches",
    "new_record",
    "normalize_model_id",
    "parse_content_hash",
    "range_content_hash",
    "record_from_dict",
    "record_from_json",
    "record_json_schema",
    "record_to_dict",
    "record_to_json",
    "split_lines",
    "validate_record",
    "validate_records_file",
]

_HOME = {
    "_import": ("ImportOutcome", "import_log"),
    "_wrap": ("RecordOutcome", "record_command"),
    "_blame": ("BlameLine", "BlameResult", "blame_file", "explain_line"),
    "_doctor": ("Coverage", "Problem", "coverage", "problems"),
    "_gc": ("GcReport", "collect_garbage"),
    "_link": ("LinkResult", "link_commit"),
    "_rewrite": ("relink_rewritten",),
    "_report": ("CommitChange", "CommitInfo", "Report", "ReportGroup", "Tally"),
    "_report_build": ("build_report",),
    "_report_text": ("render_report",),
    "_recorder": ("Recorder", "current_recorder"),
    "_git": ("BadRevision", "GitError", "GitNotFound", "NotAGitRepository"),
    "_hashing": (
        "content_hash",
        "hash_matches",
        "parse_content_hash",
        "range_content_hash",
        "split_lines",
    ),
    "_model_ids": ("normalize_model_id",),
    "_notes": ("NOTES_REF", "NotesBackend"),
    "_records": (
        "AGENT_TRACE_MIME_TYPE",
        "AGENT_TRACE_VERSION",
        "METADATA_NAMESPACE",
        "Contributor",
        "ContributorType",
        "Conversation",
        "Range",
        "RecordDecodeError",
        "RecordVersionWarning",
        "RelatedResource",
        "Tool",
        "TraceFile",
        "TraceRecord",
        "Vcs",
        "VcsType",
        "new_record",
        "record_from_dict",
        "record_from_json",
        "record_to_dict",
        "record_to_json",
    ),
    "_runs": ("Run", "RunManifest"),
    "_store": ("FileBackend", "TraceStore"),
    "_stored": ("StoreIssue", "StoredRecord", "TraceBackend"),
    "_validation": (
        "RecordProblem",
        "RecordReport",
        "record_json_schema",
        "validate_record",
        "validate_records_file",
    ),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from ._version import __version__

        return __version__
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
