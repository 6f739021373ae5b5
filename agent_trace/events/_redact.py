"""Secret redaction: named patterns, the :class:`Redactor`, and URLs made safe for git
notes. Standard library and attrs only (no event vocabulary): linking and the hooks use
it without loading the events' classes (``_privacy`` builds the policy over events)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

__all__ = ["DEFAULT_PATTERNS", "Finding", "Redactor", "SecretPattern", "safe_url"]


@attrs.frozen
class SecretPattern:
    """A named regular expression; ``group`` is the part replaced (0: all of it; with
    alternatives in later groups, the first of them that matched)."""

    name: str
    regex: re.Pattern[str]
    group: int = 0
    hints: tuple[str, ...] = ()
    """Lower-case fragments one of which any match contains: a text without them is not
    searched (empty: always searched)."""

    @classmethod
    def of(cls, name: str, pattern: str, group: int = 0) -> SecretPattern:
        try:
            regex = re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            message = f"secret pattern {name!r} is not a valid regular expression: {exc}"
            raise ValueError(message) from None
        if group > regex.groups:
            raise ValueError(f"secret pattern {name!r} has no group {group}")
        return cls(name, regex, group)


_KEYWORDS = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret"
    r"|private[_-]?key)"
)

DEFAULT_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern.of(
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.|\n)*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    SecretPattern.of(
        "aws-access-key-id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"
    ),
    SecretPattern.of(
        "aws-secret-access-key",
        r"(?i)\baws_?secret_?access_?key\b[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        1,
    ),
    SecretPattern.of("anthropic-api-key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    SecretPattern.of("openai-api-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    SecretPattern.of(
        "github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"
    ),
    SecretPattern.of("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    SecretPattern.of("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    SecretPattern.of("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}"),
    SecretPattern.of("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    SecretPattern.of("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}"),
    SecretPattern.of("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}"),
    SecretPattern.of("url-password", r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@", 1),
    SecretPattern.of(
        "authorization-header",
        r"(?i)\b(?:authorization:\s*)?(?:bearer|basic|token)\s+([A-Za-z0-9._~+/-]{16,}=*)",
        1,
    ),
    SecretPattern.of(
        "secret-assignment",
        rf"(?i)\b[A-Za-z0-9_]*{_KEYWORDS}[A-Za-z0-9_]*[\"']?[ \t]*[=:][ \t]*"
        r"(?:\"([^\"\n]{4,})\"|'([^'\n]{4,})'"
        r"|((?=[^\s\"'`&;,]*\d|[^\s\"'`&;,]{8})[^\s\"'`&;,]{4,}))",
        1,
    ),
)
_HINTS = {
    "private-key": ("private key",),
    "aws-access-key-id": ("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva"),
    "aws-secret-access-key": ("secret",),
    "anthropic-api-key": ("sk-ant-",),
    "openai-api-key": ("sk-",),
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab-token": ("glpat-",),
    "slack-token": ("xox",),
    "google-api-key": ("aiza",),
    "stripe-key": ("_live_", "_test_"),
    "huggingface-token": ("hf_",),
    "jwt": ("eyj",),
    "url-password": ("://",),
    "authorization-header": ("bearer", "basic", "token"),
    "secret-assignment": ("pass", "pwd", "secret", "token", "key"),
}
DEFAULT_PATTERNS = tuple(attrs.evolve(p, hints=_HINTS[p.name]) for p in DEFAULT_PATTERNS)
"""Keys of common providers, AWS keys, JWTs, private-key blocks, passwords in URLs,
bearer tokens and ``password=...``-style assignments."""


_FULL_ROUNDS = 4
"""Redaction rounds that search the whole text; later ones look only after markers."""
_GLUE_WINDOW = 4096
_MARKER = re.compile(r"\[REDACTED:[A-Za-z0-9_.-]*\]")


def _span(match: re.Match[str], group: int) -> tuple[int, int]:
    """The span of ``group``, or of the first later group that took part (patterns
    with alternatives: the secret is whichever alternative matched)."""
    if group == 0:
        return match.span()
    for index in range(group, (match.re.groups or 0) + 1):
        start, end = match.span(index)
        if start >= 0:
            return start, end
    return -1, -1


def _growth_before(ends: list[int], growth: list[int], position: int) -> int:
    """How much longer a round made its text before ``position`` of its output (outside
    its markers): the growth at the last marker ending at or before it."""
    index = bisect.bisect_right(ends, position)
    return growth[index - 1] if index else 0


@attrs.frozen
class Finding:
    """One secret found: the pattern's name and where (character offsets)."""

    name: str
    start: int
    end: int


def _any_of(words: Iterable[str]) -> str:
    """A regular expression matching where any of ``words`` occurs: a trie of them
    (``sk-`` for ``sk-`` and ``sk-ant-``: a longer word is found by its prefix), so a
    search tries one branch per character instead of every word."""
    groups: dict[str, list[str]] = {}
    for word in set(words):
        if not word:
            return ""  # matches everywhere
        groups.setdefault(word[0], []).append(word[1:])
    branches = [re.escape(first) + _any_of(rest) for first, rest in sorted(groups.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _prefilter(redactor: Redactor) -> re.Pattern[str] | None:
    """One search for every pattern's hints, when each pattern has some: the text of most
    events has none of them, and then no pattern is searched at all."""
    if not redactor.patterns or not all(p.hints for p in redactor.patterns):
        return None
    return re.compile(_any_of(h for p in redactor.patterns for h in p.hints))


@attrs.frozen
class Redactor:
    """Replaces secrets with ``[REDACTED:<name>]``."""

    patterns: tuple[SecretPattern, ...] = DEFAULT_PATTERNS
    _hinted: re.Pattern[str] | None = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_prefilter, takes_self=True)
    )

    @classmethod
    def configured(
        cls,
        extra: Mapping[str, str] | None = None,
        disable: Iterable[str] = (),
        *,
        defaults: bool = True,
    ) -> Redactor:
        """The default patterns (unless ``defaults=False``) minus ``disable``, plus
        ``extra`` (name to regular expression; a group, if any, is what is replaced)."""
        disabled = set(disable)
        known = {p.name for p in DEFAULT_PATTERNS}
        unknown = disabled - known - set(extra or {})
        if unknown:
            raise ValueError(f"no secret pattern named {', '.join(sorted(unknown))}")
        base = [p for p in DEFAULT_PATTERNS if defaults and p.name not in disabled]
        added = []
        for name, text in (extra or {}).items():
            if name not in disabled:
                pattern = SecretPattern.of(name, text)  # a bad expression: ValueError
                added.append(attrs.evolve(pattern, group=1) if pattern.regex.groups else pattern)
        return cls(tuple(added + base))

    def findings(self, text: str) -> list[Finding]:
        """The secrets in ``text``, in order, without overlaps (earlier patterns win)."""
        if self._no_hint(text):
            return []
        lower = text.lower()
        # Markers of an earlier redaction are not secrets, nor parts of one: redacting
        # redacted text changes nothing.
        taken = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
        found: list[Finding] = []
        for pattern in self.patterns:
            if pattern.hints and not any(h in lower for h in pattern.hints):
                continue  # cannot match: most text is searched by no pattern at all
            # Each pattern searches only the text no earlier pattern (or marker) took,
            # gap by gap: a match running into a taken span is cut there, not lost.
            gaps, last = [], 0
            for start, end in sorted(taken):
                if start > last:
                    gaps.append((last, start))
                last = max(last, end)
            gaps.append((last, len(text)))
            for low, high in gaps:
                for match in pattern.regex.finditer(text, low, high):
                    start, end = _span(match, pattern.group)
                    if start >= 0 and end > start:
                        found.append(Finding(pattern.name, start, end))
                        taken.append((start, end))
        return sorted(found, key=lambda f: f.start)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``[REDACTED:<name>]``.

        Redacted again until nothing more is found: a secret whose start was glued to
        another one (no word boundary left) shows once its neighbour is a marker, however
        many are glued in a row, and redacting the result changes nothing."""
        if self._no_hint(text):
            return text  # no pattern can match (most text)
        return self.redact_with_findings(text)[0]

    def _no_hint(self, text: str) -> bool:
        """No pattern can match ``text``: none of their hints is in it (anything not a
        string goes on, to fail as it did)."""
        hinted = self._hinted
        return hinted is not None and type(text) is str and hinted.search(text.lower()) is None

    def redact_with_findings(self, text: str) -> tuple[str, list[Finding]]:
        """What :meth:`redact` gives, and every secret it replaced, in every round, at
        its place in ``text`` (sorted, without overlaps): replacing each finding's span of
        ``text`` by ``[REDACTED:<name>]`` gives the redacted text."""
        everything: list[Finding] = []
        # Per earlier round, oldest first: the end of each marker in that round's output
        # and how much longer than the input the output is up to there.
        rounds: list[tuple[list[int], list[int]]] = []
        starts: list[int] | None = None
        while text:
            # The first rounds search everywhere; later ones only where a marker of the
            # round before ends (a secret glued to the one it replaced): as many rounds
            # as a chain of glued secrets needs, each costing a few matches per marker.
            found = self.findings(text) if starts is None else self._glued(text, starts)
            if not found:
                break
            for f in found:
                start, end = f.start, f.end
                for ends, growth in reversed(rounds):  # a finding never touches a marker
                    start -= _growth_before(ends, growth, start)
                    end -= _growth_before(ends, growth, end)
                everything.append(Finding(f.name, start, end))
            out: list[str] = []
            ends, growth = [], []
            last = grown = 0
            for f in found:
                marker = f"[REDACTED:{f.name}]"
                out.append(text[last : f.start])
                out.append(marker)
                last = f.end
                grown += len(marker) - (f.end - f.start)
                ends.append(f.end + grown)
                growth.append(grown)
            out.append(text[last:])
            text = "".join(out)
            rounds.append((ends, growth))
            starts = ends if len(rounds) >= _FULL_ROUNDS else None
        return text, sorted(everything, key=lambda f: f.start)

    def _glued(self, text: str, starts: Sequence[int]) -> list[Finding]:
        """The secrets that start right where a marker ends (``starts``), and those glued
        after them in turn, as later rounds would find them: each place is matched as if
        a marker's ``]`` came before it, the first pattern that matches wins."""
        taken = sorted((m.start(), m.end()) for m in _MARKER.finditer(text))
        found: list[Finding] = []
        for position in starts:
            while True:
                index = bisect.bisect_right(taken, (position, len(text) + 1))
                if index and taken[index - 1][1] > position:
                    break  # inside a marker or a secret found already
                high = taken[index][0] if index < len(taken) else len(text)
                span = self._match_after_marker(text, position, high)
                if span is None:
                    break
                found.append(Finding(*span))
                bisect.insort(taken, (span[1], span[2]))
                position = span[2]  # what is glued after it comes next
        return sorted(found, key=lambda f: f.start)

    def _match_after_marker(
        self, text: str, position: int, high: int
    ) -> tuple[str, int, int] | None:
        """The first pattern's match starting at ``position`` (up to ``high``) with a
        marker's ``]`` before it: ``(name, start, end)``. The text is looked at through
        a window (4 KiB, widened when a match reaches its edge), never copied whole."""
        width = _GLUE_WINDOW
        while True:
            stop = min(high, position + width)
            chunk = "]" + text[position:stop]
            for pattern in self.patterns:
                match = pattern.regex.match(chunk, 1)
                if match is None:
                    continue
                start, end = _span(match, pattern.group)
                if start < 1 or end <= start:
                    continue
                if match.end() == len(chunk) and stop < high:
                    break  # the match may go on past the window: look again, wider
                return pattern.name, position + start - 1, position + end - 1
            else:
                return None
            width *= 4

    def redact_value(self, value: Any) -> Any:
        """Strings anywhere in a JSON-like value redacted (keys too)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {
                self.redact(k) if isinstance(k, str) else k: self.redact_value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


_SECRET_QUERY_KEYS = re.compile(
    r"(?i)^(?:.*(?:token|secret|password|passwd|pwd|key|sig|signature|auth|credential|session).*"
    r"|code)$"
)


def safe_url(url: str, redactor: Redactor | None = None) -> str:
    """``url`` without the user and password, with the values of query parameters that
    look secret (``token``, ``key``, ``sig``, ...) replaced, and other secrets redacted:
    what may go into a git note."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return (redactor or Redactor()).redact(url)
    netloc = parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if _SECRET_QUERY_KEYS.match(k) else v) for k, v in pairs], safe="/:*"
        )
    clean = urlunsplit(parts._replace(netloc=netloc, query=query))
    return (redactor or Redactor()).redact(clean)
