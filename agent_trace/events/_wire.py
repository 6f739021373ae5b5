"""Wire machinery shared by every vocabulary class.

The rules mirror what serde does for the Rust producers (VT Code, Codex), plus two
things serde does not do, so that reading and writing back is lossless:

* every object keeps the keys it did not know in ``extra`` and writes them back;
* an object read from the wire remembers the order (and presence) of its keys and is
  written back in exactly that order, so ``"exit_code": null`` stays ``null`` and an
  absent key stays absent.

Objects built in Python have no wire order: they are written in declaration order, with
``skip_if_none`` fields (serde's ``skip_serializing_if = "Option::is_none"``) left out
when ``None`` and ``extra`` keys last.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
import cattrs

from ._json import (  # re-exported: the codec and the records use them from here
    dumps,
    loads,
)

__all__ = [
    "SKIP_IF_NONE",
    "WireError",
    "converter",
    "dumps",
    "loads",
    "WireObject",
    "optional",
    "tag",
]

SKIP_IF_NONE = "agent_trace.skip_if_none"
WIRE_NAME = "agent_trace.wire_name"
_TAG = "agent_trace.tag"


class WireError(ValueError):
    """A value on the wire does not fit the vocabulary.

    ``path`` is a JSON path relative to the object being decoded (``$.item.exit_code``).
    """

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path != "$" else self.message


class _AtIndex(Exception):
    """Internal: an error inside element ``index`` of a list."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def tag(value: str) -> Any:
    """The serde tag (``"type"``) as a read-only attrs field at the place serde writes it."""
    return attrs.field(default=value, init=False, metadata={_TAG: True})


def optional(default: Any = None, *, wire_name: str | None = None) -> Any:
    """An ``Option<T>`` field with ``skip_serializing_if = "Option::is_none"``."""
    metadata: dict[str, Any] = {SKIP_IF_NONE: True}
    if wire_name is not None:
        metadata[WIRE_NAME] = wire_name
    return attrs.field(default=default, metadata=metadata)


@attrs.frozen(kw_only=True, repr=False)
class WireObject:
    """Base of every vocabulary class: unknown keys in ``extra``, wire order remembered.

    Subclasses are ``@attrs.frozen(kw_only=True, repr=False)``. ``extra`` holds the keys
    this version does not know; they are written back after the known ones (or in their
    original place for an object that was read from the wire).
    """

    extra: dict[str, Any] = attrs.field(factory=dict)
    _wire_keys: tuple[str, ...] | None = attrs.field(default=None, init=False, eq=False, repr=False)

    def __repr__(self) -> str:
        parts = [
            f"{a.name}={getattr(self, a.name)!r}"
            for a in attrs.fields(type(self))
            if a.repr and a.name not in ("extra", "_wire_keys")
        ]
        if self.extra:
            parts.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


# --------------------------------------------------------------------------- converter


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expect(kind: str, value: Any) -> WireError:
    shown = repr(value) if isinstance(value, int | float | str) and len(repr(value)) < 40 else ""
    got = _json_type(value) + (f" {shown}" if shown else "")
    return WireError(f"expected {kind}, got {got}")


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _expect("a string", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise _expect("an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    # An integer stays an integer so it is written back as it was read.
    if type(value) is float or type(value) is int:
        return value
    raise _expect("a number", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise _expect("true or false", value)


def _union_args(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return ()


def _open_enum_of(tp: Any) -> type[enum.Enum] | None:
    """``SomeEnum | str`` (optionally ``| None``): an enum that keeps unknown values."""
    args = [a for a in _union_args(tp) if a is not type(None)]
    if len(args) == 2 and str in args:
        other = args[0] if args[1] is str else args[1]
        if isinstance(other, type) and issubclass(other, enum.Enum):
            return other
    return None


def _make_open_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = _open_enum_of(tp)
    assert enum_cls is not None
    lookup: dict[str, Any] = {m.value: m for m in enum_cls}
    nullable = type(None) in _union_args(tp)

    def structure(value: Any, _: Any) -> Any:
        if type(value) is str:
            return lookup.get(value, value)
        if value is None and nullable:
            return None
        raise _expect("a string", value)

    return structure


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _make_list_hook(tp: Any) -> Callable[[Any, Any], Any]:
    (elem,) = typing.get_args(tp) or (Any,)
    handler = converter.get_structure_hook(elem)

    def structure(value: Any, _: Any) -> list[Any]:
        if type(value) is not list:
            raise _expect("an array", value)
        out = []
        for index, element in enumerate(value):
            try:
                out.append(handler(element, elem))
            except Exception as exc:
                raise _AtIndex(index, exc) from exc
        return out

    return structure


def _is_dict_any(tp: Any) -> bool:
    return typing.get_origin(tp) is dict


def _structure_object(value: Any, _: Any) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise _expect("an object", value)


def _wire_fields(cls: type) -> tuple[attrs.Attribute[Any], ...]:
    return tuple(a for a in attrs.fields(cls) if a.name not in ("extra", "_wire_keys"))


def _structure_factory(cls: type) -> Callable[[Any, Any], Any]:
    attrs.resolve_types(cls)
    fields = _wire_fields(cls)
    known = frozenset(_wire_name(a) for a in fields)
    readable = [a for a in fields if a.init]
    hooks = [
        (a.name, _wire_name(a), a.type, converter.get_structure_hook(a.type)) for a in readable
    ]
    required = frozenset(a.name for a in readable if a.default is attrs.NOTHING)
    setattr_ = object.__setattr__

    def structure(value: Any, _: Any) -> Any:
        if type(value) is not dict:
            raise _expect("an object", value)
        kwargs: dict[str, Any] = {}
        for name, key, tp, hook in hooks:
            if key in value:
                try:
                    kwargs[name] = hook(value[key], tp)
                except WireError as exc:
                    raise WireError(exc.message, _join(key, exc.path)) from None
                except _AtIndex as exc:
                    raise _nest(key, exc) from None
            elif name in required:
                raise WireError("required field missing", f"$.{key}")
        obj = cls(**kwargs)
        extra = {k: v for k, v in value.items() if k not in known}
        if extra:
            setattr_(obj, "extra", extra)
        setattr_(obj, "_wire_keys", tuple(value))
        return obj

    return structure


def _wire_name(a: attrs.Attribute[Any]) -> str:
    return str(a.metadata.get(WIRE_NAME, a.name))


def _join(name: str, path: str) -> str:
    return f"$.{name}{path[1:]}"


def _nest(name: str, exc: _AtIndex) -> WireError:
    inner = exc.error
    if isinstance(inner, WireError):
        return WireError(inner.message, f"$.{name}[{exc.index}]{inner.path[1:]}")
    return WireError(str(inner), f"$.{name}[{exc.index}]")


_PLAIN = (str, int, float, bool)


def _is_plain(tp: Any) -> bool:
    """Types whose values go to JSON as they are (no hook needed)."""
    if tp is Any or tp in _PLAIN:
        return True
    args = _union_args(tp)
    if args:
        return all(a is type(None) or _is_plain(a) for a in args) and _open_enum_of(tp) is None
    origin = typing.get_origin(tp)
    if origin is dict:
        return True
    if origin is list:
        return all(_is_plain(a) for a in typing.get_args(tp))
    return False


def _value_code(a: attrs.Attribute[Any], i: int, env: dict[str, Any]) -> tuple[str, Any]:
    """Python source for the JSON value of field ``a`` of ``obj`` (``None`` not handled),
    and the hook the slow path uses (``None`` for values that go out as they are)."""
    tp = a.type
    ref = f"obj.{a.name}"
    if _is_plain(tp):
        return ref, None
    if _open_enum_of(tp) is not None:
        return f"({ref} if {ref}.__class__ is str else {ref}._value_)", _enum_value
    hook = converter.get_unstructure_hook(tp)
    args = [t for t in _union_args(tp) if t is not type(None)] or [tp]
    if len(args) == 1 and typing.get_origin(args[0]) is list:
        (elem,) = typing.get_args(args[0])
        if attrs.has(elem):  # a list of objects
            env[f"e{i}"] = converter.get_unstructure_hook(elem)
            inline = _inline_literal(elem, "x")
            if inline is not None:  # simple objects: built in place, the hook only for
                # objects read from the wire or carrying unknown keys
                return (
                    f"[{inline} if x._wire_keys is None and not x.extra else e{i}(x)"
                    f" for x in {ref}]",
                    hook,
                )
            return f"[e{i}(x) for x in {ref}]", hook
    env[f"h{i}"] = hook
    return f"h{i}({ref})", hook


def _inline_literal(cls: type, var: str) -> str | None:
    """A dict literal for an object of ``cls`` whose fields are all required strings or
    open enums (such as ``FileUpdateChange``), or ``None`` for any other class."""
    attrs.resolve_types(cls)
    parts = []
    for a in _wire_fields(cls):
        ref = f"{var}.{a.name}"
        if a.metadata.get(SKIP_IF_NONE) or a.metadata.get(_TAG) or a.default is not attrs.NOTHING:
            return None
        if a.type in _PLAIN:
            parts.append(f"{_wire_name(a)!r}: {ref}")
        elif _open_enum_of(a.type) is not None and type(None) not in _union_args(a.type):
            parts.append(f"{_wire_name(a)!r}: ({ref} if {ref}.__class__ is str else {ref}._value_)")
        else:
            return None
    return "{" + ", ".join(parts) + "}"


def _unstructure_factory(cls: type) -> Callable[[Any], dict[str, Any]]:
    """Straight-line code per class (as cattrs generates), keeping serde's key order:
    a dict literal for the leading fields, then the rest in order, optional ones skipped
    when ``None``."""
    attrs.resolve_types(cls)
    fields = _wire_fields(cls)
    env: dict[str, Any] = {}
    entries: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    literal: list[str] = []
    rest: list[str] = []
    for i, a in enumerate(fields):
        key = _wire_name(a)
        if a.metadata.get(_TAG):
            code, hook = repr(a.default), None
        else:
            code, hook = _value_code(a, i, env)
        entries.append((a.name, key, hook))
        skip = bool(a.metadata.get(SKIP_IF_NONE))
        nullable = hook is not None and a.default is None
        if nullable and not skip:
            code = f"(None if obj.{a.name} is None else {code})"
        if not skip and not rest:
            literal.append(f"{key!r}: {code}")
        elif skip:
            rest += [f"    if obj.{a.name} is not None:", f"        out[{key!r}] = {code}"]
        else:
            rest.append(f"    out[{key!r}] = {code}")
    lines = [
        "def unstructure(obj):",
        "    if obj._wire_keys is not None:",
        "        return in_wire_order(obj)",
        f"    out = {{{', '.join(literal)}}}",
        *rest,
        "    if obj.extra:",
        "        out.update(obj.extra)",
        "    return out",
    ]

    def in_wire_order(obj: Any) -> dict[str, Any]:
        extra = obj.extra
        values = {}
        for name, key, hook in entries:
            value = getattr(obj, name)
            values[key] = value if value is None or hook is None else hook(value)
        return {key: values[key] if key in values else extra[key] for key in obj._wire_keys}

    env["in_wire_order"] = in_wire_order
    exec(compile("\n".join(lines), f"<agent_trace unstructure {cls.__name__}>", "exec"), env)
    return env["unstructure"]  # type: ignore[no-any-return]


def _identity(value: Any) -> Any:
    return value


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook_func(lambda t: t is Any, lambda v, _: v)
    conv.register_unstructure_hook_func(lambda t: t is Any, _identity)
    conv.register_structure_hook_func(_is_dict_any, _structure_object)
    conv.register_unstructure_hook_func(_is_dict_any, _identity)
    conv.register_structure_hook_factory(
        lambda t: _open_enum_of(t) is not None, _make_open_enum_hook
    )
    conv.register_unstructure_hook_func(lambda t: _open_enum_of(t) is not None, _enum_value)
    conv.register_structure_hook_factory(_is_list, _make_list_hook)
    conv.register_structure_hook_factory(attrs.has, _structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_factory)
    return conv


converter: cattrs.Converter = _make_converter()


def tagged_union(
    union: Any,
    members: list[type],
    fallback: Callable[[dict[str, Any]], Any],
    *,
    what: str,
) -> tuple[Callable[[Any], Any], Callable[[Any], dict[str, Any]]]:
    """Register structure/unstructure hooks for a ``type``-tagged union.

    Unknown tags become ``fallback(raw_dict)``, which keeps the dict and writes it back as
    it was (serde's ``#[serde(other)]`` drops it).
    """
    # Each member's hooks are made when the first object of that member is read or
    # written: making them all costs ~20 ms at import, which most programs never repay.
    tags = {str(attrs.fields_dict(member)["type"].default): member for member in members}
    by_tag: dict[str, tuple[type, Callable[[Any, Any], Any]]] = {}
    dump: dict[type, Callable[[Any], dict[str, Any]]] = {}
    classes = frozenset(members)

    def structure(value: Any, _: Any = None) -> Any:
        if type(value) is not dict:
            raise _expect(f"{what} object", value)
        tag_value = value.get("type")
        hit = by_tag.get(tag_value) if isinstance(tag_value, str) else None
        if hit is None:
            if "type" not in value:
                raise WireError("required field missing", "$.type")
            if type(tag_value) is not str:
                raise WireError(_expect("a string", tag_value).message, "$.type")
            member = tags.get(tag_value)
            if member is None:
                return fallback(value)
            hit = by_tag[tag_value] = (member, converter.get_structure_hook(member))
        return hit[1](value, hit[0])

    def unstructure(obj: Any) -> dict[str, Any]:
        cls = obj.__class__
        hook = dump.get(cls)
        if hook is None:
            if cls not in classes:
                return obj.data  # type: ignore[no-any-return]
            hook = dump[cls] = converter.get_unstructure_hook(cls)
        return hook(obj)

    converter.register_structure_hook(union, structure)
    converter.register_unstructure_hook(union, unstructure)
    return structure, unstructure
