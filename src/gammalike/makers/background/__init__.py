"""Background makers: reflected regions (1D); FoV and ring backgrounds (3D) where available."""
from importlib.util import find_spec

from .reflected import (
    ReflectedRegionsBackgroundMaker,
    ReflectedRegionsFinder,
    RegionsFinder,
    WobbleRegionsFinder,
)

__all__ = [
    "ReflectedRegionsBackgroundMaker",
    "ReflectedRegionsFinder",
    "RegionsFinder",
    "WobbleRegionsFinder",
]

# The 3D background makers live in their own modules; export them once they exist.
if find_spec(f"{__name__}.fov") is not None:
    from .fov import FoVBackgroundMaker  # noqa: E402

    __all__.append("FoVBackgroundMaker")

if find_spec(f"{__name__}.ring") is not None:
    from .ring import AdaptiveRingBackgroundMaker, RingBackgroundMaker  # noqa: E402

    __all__ += ["AdaptiveRingBackgroundMaker", "RingBackgroundMaker"]
