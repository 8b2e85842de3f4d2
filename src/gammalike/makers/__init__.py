"""Data reduction: makers turn an `~gammalike.data.Observation` into a dataset.

Each maker is a configured callable (options checked by the constructor,
``run(dataset, observation)`` returns a new dataset), chained in a loop over
observations::

    dataset = SpectrumDatasetMaker(containment_correction=True).run(empty.copy(name="1"), obs)
    dataset = ReflectedRegionsBackgroundMaker(exclusion_mask=mask).run(dataset, obs)
    dataset = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10).run(dataset, obs)
"""
from importlib.util import find_spec

from .background import *  # noqa: F401,F403
from .background import __all__ as _background_all
from .core import Maker
from .safe import SafeMaskMaker
from .spectrum import SpectrumDatasetMaker

__all__ = ["Maker", "SafeMaskMaker", "SpectrumDatasetMaker"] + list(_background_all)

# The 3D dataset maker lives in its own module; export it once it exists.
if find_spec(f"{__name__}.map") is not None:
    from .map import MapDatasetMaker  # noqa: E402

    __all__.append("MapDatasetMaker")

# Reduction of many observations (progress bar, process pool).
from .reduction import DatasetsMaker  # noqa: E402

__all__.append("DatasetsMaker")
