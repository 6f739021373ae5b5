"""The repository's settings: ``.agent-trace/config.toml`` (local, never committed).

```toml
[privacy]
capture = ["messages", "command_output"]   # or "all"; default: nothing
redact = true                              # default patterns on
max_output_bytes = 16384                   # tail of command/tool output kept; -1: all
disable = ["secret-assignment"]            # default patterns to turn off
[privacy.patterns]                         # more patterns: name = regular expression
internal-token = "itk_[0-9a-f]{32}"

[limits]
max_event_bytes = 1048576                  # longer events are shrunk; 0: no cap
max_log_bytes = 268435456                  # a run's events.jsonl; 0: no cap
```
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events._limits import Limits
    from .events._privacy import PrivacyPolicy

__all__ = ["CONFIG_FILE", "ConfigError", "load_limits", "load_privacy"]

CONFIG_FILE = "config.toml"
_PRIVACY_KEYS = {"capture", "redact", "max_output_bytes", "disable", "patterns"}
_LIMITS_KEYS = {"max_event_bytes", "max_log_bytes"}


class ConfigError(ValueError):
    """The configuration file is unreadable or has a wrong value (the message names the
    file and the key)."""


def _read(directory: Path) -> tuple[Path, dict[str, Any]]:
    import tomllib

    path = directory / CONFIG_FILE
    try:
        with path.open("rb") as f:
            return path, tomllib.load(f)
    except FileNotFoundError:
        return path, {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def load_privacy(
    directory: Path | None, capture: str | Iterable[str] | None = None
) -> PrivacyPolicy:
    """The policy of the store ``directory`` (``.agent-trace``; ``None``: defaults), with
    ``capture`` (when given) replacing the configured kinds."""
    from .events._privacy import Capture, PrivacyPolicy, Redactor

    path, data = _read(directory) if directory is not None else (Path(CONFIG_FILE), {})
    section = _section(path, data, "privacy", _PRIVACY_KEYS)

    def field(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = section.get(key, default)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: privacy.{key} has the wrong type ({value!r})")
        return value

    try:
        kinds = Capture.parse(capture if capture is not None else field("capture", (list, str), []))
        patterns = field("patterns", dict, {})
        disable = field("disable", list, [])
        if not all(isinstance(v, str) for v in [*patterns.values(), *disable]):
            raise ConfigError(f"{path}: privacy.patterns and privacy.disable hold strings")
        redactor = Redactor.configured(patterns, disable) if field("redact", bool, True) else None
        max_output = field("max_output_bytes", int, PrivacyPolicy().max_output_bytes)
    except ConfigError:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return PrivacyPolicy(capture=kinds, redactor=redactor, max_output_bytes=max_output)


def _section(path: Path, data: dict[str, Any], name: str, known: set[str]) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    unknown = set(section) - known
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {name}.{sorted(unknown)[0]} (known: {', '.join(sorted(known))})"
        )
    return section


def load_limits(directory: Path | None) -> Limits:
    """The caps on event and log size of the store ``directory`` (``[limits]``)."""
    from .events._limits import Limits

    path, data = _read(directory) if directory is not None else (Path(CONFIG_FILE), {})
    section = _section(path, data, "limits", _LIMITS_KEYS)
    defaults = Limits()
    values: dict[str, int | None] = {}
    for key in sorted(_LIMITS_KEYS):
        value = section.get(key, getattr(defaults, key))
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ConfigError(
                f"{path}: limits.{key} must be a whole number of bytes, 0 for no cap ({value!r})"
            )
        values[key] = value
    try:
        return Limits(**values)
    except ValueError as exc:
        raise ConfigError(f"{path}: limits.{exc}") from None
