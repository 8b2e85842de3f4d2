"""Spatial models: parameters, frame, position and YAML.

``evaluate(lon, lat, *pars)`` works on floats in degrees and returns a
surface brightness in sr-1 for the Gaussian, disk and constant models.
Point sources, shells and templates are integrated over map pixels by the
datasets (not here).
"""
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

from ..parameter import Parameter
from .core import ModelBase

__all__ = [
    "SpatialModel",
    "PointSpatialModel",
    "GaussianSpatialModel",
    "GeneralizedGaussianSpatialModel",
    "DiskSpatialModel",
    "ShellSpatialModel",
    "Shell2SpatialModel",
    "ConstantSpatialModel",
    "TemplateSpatialModel",
    "angular_separation_deg",
    "position_angle_deg",
]

_FRAMES = ("icrs", "galactic", "fk5", "fk4")


def angular_separation_deg(lon1, lat1, lon2, lat2):
    """Great-circle separation in degrees (Vincenty formula, stable at all angles)."""
    lon1, lat1, lon2, lat2 = (np.radians(x) for x in (lon1, lat1, lon2, lat2))
    dlon = lon2 - lon1
    s1, c1 = np.sin(lat1), np.cos(lat1)
    s2, c2 = np.sin(lat2), np.cos(lat2)
    num = np.hypot(c2 * np.sin(dlon), c1 * s2 - s1 * c2 * np.cos(dlon))
    den = s1 * s2 + c1 * c2 * np.cos(dlon)
    return np.degrees(np.arctan2(num, den))


def position_angle_deg(lon1, lat1, lon2, lat2):
    """Position angle of point 2 seen from point 1, east of north, degrees."""
    lon1, lat1, lon2, lat2 = (np.radians(x) for x in (lon1, lat1, lon2, lat2))
    dlon = lon2 - lon1
    x = np.sin(dlon) * np.cos(lat2)
    y = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon)
    return np.degrees(np.arctan2(x, y))


def _elliptical_radius(lon, lat, lon_0, lat_0, r_major, e, phi):
    """Separation scaled so that the ellipse (major r_major, eccentricity e,
    major-axis position angle phi) maps to a circle of radius r_major (degrees)."""
    sep = angular_separation_deg(lon_0, lat_0, lon, lat)
    if e == 0:
        return sep
    pa = np.radians(position_angle_deg(lon_0, lat_0, lon, lat) - phi)
    minor_ratio = np.sqrt(1 - e ** 2)
    return sep * np.hypot(np.cos(pa), np.sin(pa) / minor_ratio)


class SpatialModel(ModelBase):
    """Base class of spatial models: parameters and a coordinate frame."""

    _family = "spatial"
    _abstract = True

    def __init__(self, frame="icrs", **kwargs):
        if frame not in _FRAMES:
            raise ValueError(f"{self.__class__.__name__}: unknown frame {frame!r}; expected one of {_FRAMES}")
        self.frame = frame
        super().__init__(**kwargs)

    @property
    def is_energy_dependent(self):
        return False

    @property
    def position(self):
        """Centre as a `~astropy.coordinates.SkyCoord` (None without lon_0/lat_0)."""
        if "lon_0" not in self.parameters.names:
            return None
        return SkyCoord(self.lon_0.quantity, self.lat_0.quantity, frame=self.frame)

    @position.setter
    def position(self, skycoord):
        coord = skycoord.transform_to(self.frame)
        self.lon_0.quantity = coord.spherical.lon.to(u.deg)
        self.lat_0.quantity = coord.spherical.lat.to(u.deg)

    @property
    def position_lonlat(self):
        """Centre (lon, lat) in degrees, floats."""
        return self.lon_0.value_in(u.deg), self.lat_0.value_in(u.deg)

    def to_dict(self, full_output=False):
        data = super().to_dict(full_output)
        out = {"type": data["type"], "frame": self.frame}
        out["parameters"] = data["parameters"]
        return out

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "type" in data and data["type"] not in _tag_list(cls):
            from .core import MODEL_REGISTRY

            return MODEL_REGISTRY["spatial"].get_cls(data["type"]).from_dict(data, **kwargs)
        model = cls(frame=data.get("frame", "icrs"), **kwargs)
        model._update_parameters_from_dict(data.get("parameters", []))
        return model

    def __call__(self, lon, lat):
        """Surface brightness at sky coordinates (Quantities, in this model's frame)."""
        lon = u.Quantity(lon).to_value(u.deg)
        lat = u.Quantity(lat).to_value(u.deg)
        return u.Quantity(self.evaluate(lon, lat, *self.parameter_values()), "sr-1")

    def evaluate(self, lon, lat, *pars):
        raise NotImplementedError(
            f"{self.__class__.__name__}: no analytic surface brightness (integrated by the dataset)"
        )


def _tag_list(cls):
    return list(cls.tag) if isinstance(cls.tag, (list, tuple)) else [cls.tag]


def _lon_lat():
    return (
        Parameter("lon_0", "0 deg"),
        Parameter("lat_0", "0 deg", min=-90, max=90),
    )


class PointSpatialModel(SpatialModel):
    """Point source at (lon_0, lat_0)."""

    tag = ["PointSpatialModel", "point"]
    lon_0, lat_0 = _lon_lat()

    @property
    def evaluation_radius(self):
        return 0 * u.deg


class GaussianSpatialModel(SpatialModel):
    r"""Two-dimensional Gaussian, optionally elongated.

    ``sigma`` is the semi-major axis, the minor one ``sigma * sqrt(1 - e^2)``,
    ``phi`` the major axis' position angle (east of north).  Small-angle
    normalisation ``1 / (2 pi sigma_major sigma_minor)`` (sr-1).
    """

    tag = ["GaussianSpatialModel", "gauss"]
    lon_0, lat_0 = _lon_lat()
    sigma = Parameter("sigma", "1 deg", min=0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)

    def evaluate(self, lon, lat, lon_0, lat_0, sigma, e, phi):
        radius = _elliptical_radius(lon, lat, lon_0, lat_0, sigma, e, phi)
        sigma_rad = np.radians(sigma)
        norm = 1.0 / (2 * np.pi * sigma_rad ** 2 * np.sqrt(1 - e ** 2))
        return norm * np.exp(-0.5 * (radius / sigma) ** 2)

    @property
    def evaluation_radius(self):
        return 5 * self.sigma.quantity


class GeneralizedGaussianSpatialModel(SpatialModel):
    r"""Generalized Gaussian ``exp(-(r / r_0)^(1 / eta))`` (eta = 0.5: Gaussian-like)."""

    tag = ["GeneralizedGaussianSpatialModel", "gauss-general"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    eta = Parameter("eta", 0.5, min=0.01, max=1.0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)


class DiskSpatialModel(SpatialModel):
    r"""Uniform disk (optionally elliptical) of radius ``r_0``.

    Normalised on the sphere: ``1 / (2 pi (1 - cos r_0) sqrt(1 - e^2))`` inside.
    ``edge_width`` is kept for YAML compatibility; this evaluation uses a
    sharp edge.
    """

    tag = ["DiskSpatialModel", "disk"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)
    edge_width = Parameter("edge_width", 0.01, min=0, max=1, frozen=True)

    def evaluate(self, lon, lat, lon_0, lat_0, r_0, e, phi, edge_width):
        radius = _elliptical_radius(lon, lat, lon_0, lat_0, r_0, e, phi)
        norm = 1.0 / (2 * np.pi * (1 - np.cos(np.radians(r_0))) * np.sqrt(1 - e ** 2))
        return np.where(radius <= r_0, norm, 0.0)

    @property
    def evaluation_radius(self):
        return self.r_0.quantity * (1 + self.edge_width.value)


class ShellSpatialModel(SpatialModel):
    """Projected uniform spherical shell between ``radius`` and ``radius + width``."""

    tag = ["ShellSpatialModel", "shell"]
    lon_0, lat_0 = _lon_lat()
    radius = Parameter("radius", "1 deg", min=0)
    width = Parameter("width", "0.2 deg", min=0)


class Shell2SpatialModel(SpatialModel):
    """Projected shell with outer radius ``r_0`` and relative width ``eta``."""

    tag = ["Shell2SpatialModel", "shell2"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    eta = Parameter("eta", 0.2, min=0.02, max=1)


class ConstantSpatialModel(SpatialModel):
    """Constant surface brightness ``value`` (sr-1)."""

    tag = ["ConstantSpatialModel", "const"]
    value = Parameter("value", "1 sr-1", frozen=True)

    def evaluate(self, lon, lat, value):
        return np.full(np.broadcast(lon, lat).shape, value, dtype=float)

    @property
    def position(self):
        return None


class TemplateSpatialModel(SpatialModel):
    """Spatial template from a map file.

    The map itself is not loaded yet: the model keeps ``filename``,
    ``normalize`` and ``unit`` so that YAML files round-trip.

    Parameters
    ----------
    map : map object, optional
        The template map (kept as given).
    filename : str, optional
        Map file (``$GAMMAPY_DATA`` paths are kept unexpanded).
    normalize : bool
        Whether the template is normalised to unit integral.
    unit : str, optional
        Unit of the map values.
    """

    tag = ["TemplateSpatialModel", "template"]

    def __init__(self, map=None, filename=None, normalize=True, unit=None, frame="icrs", meta=None,
                 interp_kwargs=None):
        super().__init__(frame=frame)
        self.map = map
        self.filename = None if filename is None else str(filename)
        self.normalize = bool(normalize)
        self.unit = None if unit is None else u.Unit(unit)
        self.meta = dict(meta or {})
        self.interp_kwargs = dict(interp_kwargs or {})

    @property
    def position(self):
        return None

    def to_dict(self, full_output=False):
        data = {"type": self.type_name}
        if self.filename is not None:
            data["filename"] = self.filename
        data["normalize"] = self.normalize
        if self.unit is not None:
            data["unit"] = self.unit.to_string()
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        return cls(
            filename=data.get("filename"),
            normalize=data.get("normalize", True),
            unit=data.get("unit"),
            frame=data.get("frame", "icrs"),
        )

    def __str__(self):
        return f"{self.__class__.__name__}\n\n  filename  : {self.filename}\n  normalize : {self.normalize}"
