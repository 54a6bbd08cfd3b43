"""``NamedTuple`` for the modules every command imports, without importing :mod:`typing`.

Importing :mod:`typing` costs about 5 ms, a noticeable share of a command that makes one
ballot. The type checker sees :class:`typing.NamedTuple` itself; at run time the class syntax
builds the same :func:`collections.namedtuple` as ``typing.NamedTuple`` does (fields from the
annotations, in order, with their defaults; methods, properties and docstrings kept). Every
module here uses ``from __future__ import annotations``, so annotations are never evaluated
and the names they use are imported under ``TYPE_CHECKING`` only.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (the constant of typing, without importing typing)

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import collections

    _SPECIAL = {"__annotations__", "__module__", "__qualname__", "__dict__", "__weakref__"}

    class _NamedTupleMeta(type):
        def __new__(mcls, name, bases, namespace):
            if not bases:  # the NamedTuple base itself
                return super().__new__(mcls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[f] for f in fields if f in namespace]
            if defaults and any(f not in namespace for f in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            cls = collections.namedtuple(
                name, fields, defaults=defaults or None, module=namespace.get("__module__")
            )
            for key, value in namespace.items():
                if key in fields:
                    continue
                if key in _SPECIAL:
                    continue
                if key in cls._fields or key in ("_make", "_replace", "_asdict", "_fields"):
                    raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
                setattr(cls, key, value)
            cls.__annotations__ = namespace.get("__annotations__", {})
            cls.__qualname__ = namespace.get("__qualname__", name)
            return cls

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base of the class syntax (see the module docstring)."""


__all__ = ["TYPE_CHECKING", "NamedTuple"]
