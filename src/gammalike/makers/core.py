"""`Maker`: base class of the data-reduction steps (Observation -> Dataset).

A maker is a configured callable: the constructor takes and validates every
option, `run` does the work and returns a new dataset, nothing else is public.
"""
import abc
import html

import numpy as np

__all__ = ["Maker"]


class Maker(abc.ABC):
    """Base class of the makers.

    Subclasses set ``tag`` (their class name as used in configurations) and
    implement `run`.  ``__str__`` lists the public attributes set by the
    constructor, so every maker prints its configuration the same way.
    """

    tag = "Maker"

    @abc.abstractmethod
    def run(self, *args, **kwargs):
        """Run the maker (returns a new object)."""

    def _config_items(self):
        for key, value in self.__dict__.items():
            if key.startswith("_"):
                continue
            yield key, value

    def __str__(self):
        lines = [self.__class__.__name__, "-" * len(self.__class__.__name__), ""]
        for key, value in self._config_items():
            if isinstance(value, np.ndarray):
                value = f"array{value.shape}"
            elif hasattr(value, "geom") and hasattr(value, "data"):
                value = f"{type(value).__name__}{tuple(value.data.shape)}"
            lines.append(f"\t{key:<28}: {value}")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"{self.__class__.__name__}()"

    def _repr_html_(self):
        return f"<pre>{html.escape(str(self))}</pre>"
