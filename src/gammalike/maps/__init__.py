"""Sky maps: axes, geometries (WCS, region) and the maps built on them."""
from .axes import MapAxis, LabelMapAxis
from .map_axes import MapAxes
from .coord import MapCoord
from .geom import Geom
from .region import RegionGeom
from .wcs import WcsGeom
from .core import Map
from .region_ndmap import RegionNDMap
from .wcs_ndmap import WcsNDMap

__all__ = [
    "MapAxis", "LabelMapAxis", "MapAxes", "MapCoord", "Geom", "RegionGeom", "WcsGeom",
    "Map", "RegionNDMap", "WcsNDMap",
]

# Time intervals (light curves).
from .time_axis import TimeMapAxis  # noqa: E402

__all__.append("TimeMapAxis")
