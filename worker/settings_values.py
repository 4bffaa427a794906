"""Reading a settings dataclass from `NEWSWATCH_*` environment variables: each value parsed by its field's type.

The types a setting can have are few (text, paths, numbers with bounds, yes/no, comma lists, secrets, one of
a few words), so a page of code reads them, and a bad value is a `ConfigError` that names its variable, shows
what was given and says what was expected, before any command does anything.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from newswatch.storage.errors import ConfigError

ENV_PREFIX = "NEWSWATCH_"
SECRET_MASK = "**********"
"""What a secret reads as wherever it is shown."""
TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


class Secret:
    """A value never shown: printed, logged or put in an error message it reads as stars."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The value itself, for the one place that uses it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({SECRET_MASK!r})"

    def __str__(self) -> str:
        return SECRET_MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def positive(default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A field whose value must be above zero (or unset, where its type allows None)."""
    return dataclasses.field(default=default, metadata={"above": 0}, **kwargs)


def within(low: int, high: int, default: Any = None) -> Any:
    """A field whose value must lie between `low` and `high`, both included."""
    return dataclasses.field(default=default, metadata={"low": low, "high": high})


def variable(name: str) -> str:
    """The environment variable of the setting `name`."""
    return ENV_PREFIX + name.upper()


def from_environment(
    cls: type, given: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The value of every field of the dataclass `cls`: from `given` (typed values or strings), else its
    environment variable (the name in any case), else its default; a `ConfigError` for the first bad one."""
    unknown = sorted(set(given) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {', '.join(unknown)}")
    environ = os.environ if environ is None else environ
    env = {key.upper(): value for key, value in environ.items() if key[: len(ENV_PREFIX)].upper() == ENV_PREFIX}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        name = variable(spec.name)
        if spec.name in given:
            raw: object = given[spec.name]
        elif name in env:
            raw = env[name]
        elif spec.default_factory is not dataclasses.MISSING:
            raw = spec.default_factory()
        else:
            raw = spec.default
        try:
            values[spec.name] = _checked(_parse(hints[spec.name], raw), spec.metadata)
        except ValueError as exc:
            raise ConfigError(f"config: {name}: {exc} (got {_shown(hints[spec.name], raw)})") from None
    return values


def _shown(kind: object, raw: object) -> str:
    return repr(SECRET_MASK) if Secret in _members(kind) else repr(raw)


def _members(kind: object) -> tuple[object, ...]:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return typing.get_args(kind)
    return (kind,)


def _parse(kind: object, raw: object) -> Any:
    """`raw` as the type `kind`: strings are parsed, values of the type pass, None only where it is allowed."""
    members = _members(kind)
    optional = type(None) in members
    base = next(member for member in members if member is not type(None))
    if raw is None or (optional and isinstance(raw, str) and not raw.strip()):
        if optional:
            return None
        raise ValueError("must be set")
    if typing.get_origin(base) is typing.Literal:
        choices = typing.get_args(base)
        text = raw.strip().lower() if isinstance(raw, str) else raw
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return text
    parser = _PARSERS.get(base if typing.get_origin(base) is None else typing.get_origin(base))
    if parser is None:  # pragma: no cover - a field of a type this module does not know is a programming error
        raise TypeError(f"no parser for settings of type {base!r}")
    return parser(raw)


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError("must be true or false (1/0, yes/no, on/off)")


def _integer(raw: object) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError("must be a whole number")
    try:
        return int(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError("must be a whole number") from None


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError("must be a number")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    return value


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be text")
    return raw


def _path(raw: object) -> Path:
    if isinstance(raw, Path):
        return raw
    return Path(_text(raw))


def _comma_list(raw: object) -> list[str] | None:
    parts = raw.split(",") if isinstance(raw, str) else list(raw)  # type: ignore[call-overload]
    return [str(part).strip() for part in parts if str(part).strip()] or None


def _secret(raw: object) -> Secret:
    return raw if isinstance(raw, Secret) else Secret(_text(raw))


_PARSERS: dict[object, Callable[[object], Any]] = {
    bool: _boolean,
    int: _integer,
    float: _number,
    str: _text,
    Path: _path,
    list: _comma_list,
    Secret: _secret,
}


def _checked(value: Any, bounds: Mapping[str, Any]) -> Any:
    """`value` within the field's bounds (None, an unset optional, is always within)."""
    if value is None:
        return value
    if "above" in bounds and not value > bounds["above"]:
        raise ValueError(f"must be greater than {bounds['above']}")
    if "low" in bounds and not bounds["low"] <= value <= bounds["high"]:
        raise ValueError(f"must be between {bounds['low']} and {bounds['high']}")
    return value
