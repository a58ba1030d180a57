"""One registry kind for every named thing: attacks, model families, training methods, datasets, experiments.

A ``Registry`` maps kebab-case names to entries (usually classes or factories).
Registering a name twice raises, so two modules cannot silently replace each
other's entry. ``create`` builds an entry from options and checks them against
the factory's signature, so an unknown option is an error that lists the valid
ones, and ``None`` is passed on like any other value (the CLI edge decides which
options it sends; the registry never drops any).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
E = TypeVar("E")

_NAME = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")


class Registry(Generic[E]):
    """Names → entries for one kind of thing (``kind`` appears in every error message)."""

    def __init__(self, kind: str, *, hint: str = ""):
        self.kind = kind
        self.hint = hint
        self._entries: dict[str, E] = {}

    # --- registration ----------------------------------------------------------------------------
    @overload
    def register(self, name: str) -> Callable[[E], E]: ...

    @overload
    def register(self, name: str, entry: E) -> E: ...

    def register(self, name: str, entry: Any = None) -> Any:
        """Add ``entry`` under ``name``; without ``entry`` returns a decorator. A clash raises."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{self.kind} names are lower-case kebab-case (e.g. 'cnn-small'), got {name!r}")

        def add(obj: E) -> E:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered ({self._entries[name]!r}); pick another name")
            self._entries[name] = obj
            return obj

        return add if entry is None else add(entry)

    # --- look-up ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> E:
        """The entry for ``name``; an unknown name raises with the valid ones (and a close match)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}")
        key = name.strip().lower()
        if key not in self._entries:
            close = difflib.get_close_matches(key, self._entries, n=1)
            maybe = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}{maybe}; expected one of {self.names()}{self.hint}")
        return self._entries[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, E]]:
        return [(k, self._entries[k]) for k in self.names()]

    def create(self, name: str, /, **options: Any) -> Any:
        """Call the entry for ``name`` with ``options`` after checking them against its signature."""
        factory = self.get(name)
        if not callable(factory):
            raise TypeError(f"{self.kind} {name!r} is not constructible")
        check_options(factory, options, f"{self.kind} {name!r}")
        return factory(**options)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def accepted_options(factory: Callable[..., Any], *, skip: tuple[str, ...] = ()) -> list[str] | None:
    """Keyword options ``factory`` takes (None when it takes ``**kwargs``: anything goes)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return sorted(k for k, p in params.items() if p.kind in kinds and k not in skip and k != "self")


def check_options(factory: Callable[..., Any], options: dict[str, Any], what: str, *, skip: tuple[str, ...] = ()) -> None:
    """Raise ``ValueError`` naming the unknown options of ``factory`` and the valid ones."""
    allowed = accepted_options(factory, skip=skip)
    if allowed is not None:
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"{what}: unknown option(s) {unknown}; expected some of {allowed}")
    missing = sorted(set(required_options(factory, skip=skip)) - set(options))
    if missing:
        raise ValueError(f"{what}: missing required option(s) {missing}")


def required_options(factory: Callable[..., Any], *, skip: tuple[str, ...] = ()) -> list[str]:
    """Keyword options ``factory`` cannot do without (no default)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [k for k, p in params.items() if p.kind in kinds and p.default is p.empty and k not in skip and k != "self"]
