"""`MapCoord`: map coordinates (lon, lat in deg and non-spatial axes) as arrays."""
import numpy as np
import astropy.units as u
from astropy.coordinates import SkyCoord

__all__ = ["MapCoord", "skycoord_to_lonlat", "frame_name"]


def frame_name(frame):
    """Normalised frame name ("icrs" or "galactic") of a string, SkyCoord or frame."""
    if isinstance(frame, SkyCoord):
        frame = frame.frame.name
    elif hasattr(frame, "name") and not isinstance(frame, str):
        frame = frame.name
    frame = str(frame).lower()
    if frame in ("fk5", "icrs", "cel", "equatorial", "radec"):
        return "icrs" if frame != "fk5" else "fk5"
    if frame in ("galactic", "gal"):
        return "galactic"
    return frame


def skycoord_to_lonlat(skycoord, frame=None):
    """(lon, lat) float arrays in deg of a SkyCoord, optionally transformed to ``frame``."""
    if frame is not None:
        frame = frame_name(frame)
        if skycoord.frame.name != frame:
            skycoord = skycoord.transform_to(frame)
    sph = skycoord.spherical
    return sph.lon.deg, sph.lat.deg


class MapCoord:
    """Coordinates of map positions: ``lon``/``lat`` (deg) plus non-spatial axes.

    Behaves like a read-mostly dict keyed by axis name ("lon", "lat",
    "energy", ...); integer keys index in insertion order.

    Parameters
    ----------
    data : dict
        Coordinate arrays. "lon"/"lat" are floats in deg; others may be Quantities.
    frame : {"icrs", "galactic"}, optional
        Frame of lon/lat.
    match_by_name : bool
        Match the non-spatial coordinates to geometry axes by name (else by order).
    """

    def __init__(self, data, frame=None, match_by_name=True):
        if "lon" not in data or "lat" not in data:
            raise ValueError(f"MapCoord: 'lon' and 'lat' are required, got {list(data)}")
        self._data = {}
        for key, value in data.items():
            if key in ("lon", "lat") and isinstance(value, u.Quantity):
                value = value.to_value("deg")
            elif not isinstance(value, u.Quantity):
                value = np.asarray(value)
                if value.dtype.kind not in "USO":
                    value = value.astype(float, copy=False)
            self._data[key] = value
        self._frame = frame_name(frame) if frame is not None else None
        self._match_by_name = match_by_name

    @classmethod
    def create(cls, data, frame=None, axis_names=None):
        """MapCoord from a dict, tuple, SkyCoord or MapCoord.

        A dict may give positions as "skycoord" (SkyCoord) or "lon"/"lat";
        a tuple is ``(lon, lat, *others)`` or ``(skycoord, *others)`` with
        ``axis_names`` naming the others.
        """
        if isinstance(data, cls):
            return data.to_frame(frame) if frame is not None and data.frame is not None else data
        if isinstance(data, SkyCoord):
            data = {"skycoord": data}
        if isinstance(data, (tuple, list)):
            data = list(data)
            out = {}
            if isinstance(data[0], SkyCoord):
                out["skycoord"] = data.pop(0)
            else:
                out["lon"], out["lat"] = data.pop(0), data.pop(0)
            names = list(axis_names) if axis_names is not None else [f"axis{i}" for i in range(len(data))]
            match = axis_names is not None
            out.update(dict(zip(names, data)))
            return cls._from_dict(out, frame, match_by_name=match)
        if isinstance(data, dict):
            return cls._from_dict(dict(data), frame)
        raise TypeError(f"MapCoord.create: unsupported coordinate type {type(data).__name__}")

    @classmethod
    def _from_dict(cls, data, frame, match_by_name=True):
        if "skycoord" in data:
            skycoord = data.pop("skycoord")
            out_frame = frame_name(frame) if frame is not None else frame_name(skycoord)
            lon, lat = skycoord_to_lonlat(skycoord, out_frame)
            data = {"lon": lon, "lat": lat, **data}
            frame = out_frame
        elif "lon" not in data and "lat" not in data:
            # non-spatial coordinates only (e.g. for RegionGeom): positions are unknown
            data = {"lon": np.nan, "lat": np.nan, **data}
        return cls(data, frame=frame, match_by_name=match_by_name)

    # ------------------------------------------------------------------ dict interface
    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return list(self._data.values())[key]
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value

    def __contains__(self, key):
        return key in self._data

    def __iter__(self):
        return iter(self._data.values())

    def __len__(self):
        return len(self._data)

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    @property
    def axis_names(self):
        return list(self._data.keys())

    # ------------------------------------------------------------------ properties
    @property
    def lon(self):
        """Longitudes in deg (float array)."""
        return self._data["lon"]

    @property
    def lat(self):
        """Latitudes in deg (float array)."""
        return self._data["lat"]

    @property
    def frame(self):
        return self._frame

    @property
    def match_by_name(self):
        return self._match_by_name

    @property
    def skycoord(self):
        """Positions as a SkyCoord (frame of the coordinates, icrs if unknown)."""
        return SkyCoord(self.lon, self.lat, unit="deg", frame=self._frame or "icrs")

    @property
    def shape(self):
        """Broadcast shape of all coordinates."""
        return np.broadcast_shapes(*[np.shape(v) for v in self._data.values()])

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def ndim(self):
        return len(self._data)

    @property
    def broadcasted(self):
        """Copy with all coordinate arrays broadcast to a common shape."""
        shape = self.shape
        data = {k: np.broadcast_to(v, shape, subok=True) for k, v in self._data.items()}
        return self.__class__(data, frame=self._frame, match_by_name=self._match_by_name)

    def apply_mask(self, mask):
        """Coordinates at the True positions of a boolean mask (after broadcasting)."""
        coords = self.broadcasted
        data = {k: v[mask] for k, v in coords.items()}
        return self.__class__(data, frame=self._frame, match_by_name=self._match_by_name)

    def to_frame(self, frame):
        """Copy with lon/lat transformed to ``frame``."""
        frame = frame_name(frame)
        if self._frame is None or frame == self._frame:
            return self.__class__(dict(self._data), frame=frame, match_by_name=self._match_by_name)
        lon, lat = skycoord_to_lonlat(self.skycoord, frame)
        data = dict(self._data)
        data["lon"], data["lat"] = lon, lat
        return self.__class__(data, frame=frame, match_by_name=self._match_by_name)

    def copy(self):
        data = {k: v.copy() if hasattr(v, "copy") else v for k, v in self._data.items()}
        return self.__class__(data, frame=self._frame, match_by_name=self._match_by_name)

    def __repr__(self):
        return f"MapCoord(axes={self.axis_names}, shape={self.shape}, frame={self._frame})"
