"""Spatial models: base class, point, Gaussian, generalized Gaussian, disk, constant.

Conventions (as gammapy documents them)
---------------------------------------
* ``lon_0`` / ``lat_0``: centre in the model's ``frame`` ("icrs" or "galactic"), deg.
* Elongated models: the size parameter (``sigma``, ``r_0``) is the semi-major
  axis, ``e`` the eccentricity (semi-minor = semi-major * sqrt(1 - e^2)) and
  ``phi`` the position angle of the major axis, east of north.
* ``evaluate(lon, lat, *pars)`` works on float arrays (deg, parameters in the
  internal units of the class defaults) and returns a surface brightness in
  sr-1, normalised to a unit integral over the sky.
* ``integrate_geom(geom)`` returns the fraction of the flux in each pixel (see
  `~.spatial_integrate` for the oversampling scheme).

Shells live in `~.spatial_shell`, templates in `~.spatial_template`.
"""
import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord

from ..parameter import Parameter, Parameters
from .core import ModelBase
from .spatial_integrate import (
    bilinear_weights_image,
    elliptical_radius,
    geom_lonlat,
    integrate_image,
    sky_offset,
)

__all__ = [
    "SpatialModel",
    "PointSpatialModel",
    "GaussianSpatialModel",
    "GeneralizedGaussianSpatialModel",
    "DiskSpatialModel",
    "ConstantSpatialModel",
    "angular_separation_deg",
    "position_angle_deg",
]

_FRAMES = ("icrs", "galactic", "fk5", "fk4")
#: Automatic oversampling: at least this many sub-pixels across the model's smallest scale.
OVERSAMPLING_RESOLUTION = 5
#: 95 % -> 5 % width of the disk edge in units of the tanh scale: 2 artanh(0.9).
_EDGE_WIDTH_TO_SCALE = 2 * np.arctanh(0.9)


def angular_separation_deg(lon1, lat1, lon2, lat2):
    """Great-circle separation in degrees (stable at all angles)."""
    return sky_offset(lon2, lat2, lon1, lat1)[0]


def position_angle_deg(lon1, lat1, lon2, lat2):
    """Position angle of point 2 seen from point 1, east of north, degrees."""
    _, east, north = sky_offset(lon2, lat2, lon1, lat1)
    return np.degrees(np.arctan2(east, north))


def _lon_lat():
    return (
        Parameter("lon_0", "0 deg"),
        Parameter("lat_0", "0 deg", min=-90, max=90),
    )


class SpatialModel(ModelBase):
    """Base class of spatial models: parameters, frame, position, pixel integration."""

    _family = "spatial"
    _abstract = True

    def __init__(self, frame="icrs", **kwargs):
        if isinstance(frame, str):
            frame = frame.lower()
        if frame not in _FRAMES:
            raise ValueError(f"{self.__class__.__name__}: unknown frame {frame!r}; expected one of {_FRAMES}")
        self.frame = frame
        self._frame_cache = {}
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ position
    @property
    def is_energy_dependent(self):
        """Whether the morphology depends on energy (only energy-dependent templates)."""
        return False

    @property
    def _has_position(self):
        return isinstance(getattr(type(self), "lon_0", None), Parameter)

    @property
    def position(self):
        """Centre as a `~astropy.coordinates.SkyCoord` (None without lon_0/lat_0)."""
        if not self._has_position:
            return None
        lon, lat = self.position_lonlat
        return SkyCoord(lon, lat, unit="deg", frame=self.frame)

    @position.setter
    def position(self, skycoord):
        coord = skycoord.transform_to(self.frame)
        self.lon_0.quantity = coord.spherical.lon.to(self.lon_0.unit)
        self.lat_0.quantity = coord.spherical.lat.to(self.lat_0.unit)

    @property
    def position_lonlat(self):
        """Centre (lon, lat) in degrees, floats (model frame)."""
        return self.lon_0.value_in(u.deg), self.lat_0.value_in(u.deg)

    @property
    def position_error(self):
        """1-sigma error ellipse of the position (`~regions.EllipseSkyRegion`).

        From the covariance of lon_0 / lat_0 in the tangent plane (lon offsets
        scaled by cos(lat)): ``height`` is twice the semi-axis closest to the
        north direction, ``angle`` its position angle east of north.
        """
        from regions import EllipseSkyRegion

        if not self._has_position:
            return None
        pars = Parameters([self.lon_0, self.lat_0])
        cov = np.array(self.covariance.get_subcovariance(pars), dtype=float)
        scale = np.array([self.lon_0.unit.to(u.deg), self.lat_0.unit.to(u.deg)])
        cos_lat = np.cos(np.radians(self.position_lonlat[1]))
        jac = np.diag([scale[0] * cos_lat, scale[1]])
        cov = jac @ cov @ jac  # (east, north) in deg^2
        eigval, eigvec = np.linalg.eigh(cov)
        # regions needs strictly positive axes (a fully correlated error has a zero axis)
        eigval = np.clip(eigval, 1e-24, None)
        # semi-axis closest to north becomes the "height" axis
        k = int(np.argmax(np.abs(eigvec[1])))
        east, north = eigvec[:, k]
        angle = np.degrees(np.arctan2(east, north))
        angle = (angle + 90) % 180 - 90
        return EllipseSkyRegion(
            center=self.position,
            height=2 * np.sqrt(eigval[k]) * u.deg,
            width=2 * np.sqrt(eigval[1 - k]) * u.deg,
            angle=Angle(angle, "deg"),
        )

    def _evaluation_radius_deg(self, pars):
        """Radius (deg) containing essentially all the flux, from parameter floats; None: infinite."""
        return None

    def _oversampling_scale_deg(self, pars):
        """Smallest angular scale of the morphology (deg) driving the oversampling."""
        return None

    @property
    def evaluation_radius(self):
        """Angle containing essentially all the flux (None for unbounded models)."""
        radius = self._evaluation_radius_deg(self.parameter_values())
        return None if radius is None else Angle(radius, "deg")

    @property
    def evaluation_region(self):
        """`~regions.CircleSkyRegion` of radius `evaluation_radius`.

        None for unbounded models and point sources (radius 0: the PSF sets the extent).
        """
        from regions import CircleSkyRegion

        radius = self.evaluation_radius
        if radius is None or self.position is None or not radius.deg > 0:
            return None
        return CircleSkyRegion(center=self.position, radius=radius)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, lon, lat, *pars):
        raise NotImplementedError(f"{self.__class__.__name__}.evaluate is not implemented")

    def __call__(self, lon, lat=None, energy=None):
        """Surface brightness (sr-1) at sky positions.

        Parameters
        ----------
        lon, lat : `~astropy.units.Quantity` or `~astropy.coordinates.SkyCoord`
            Coordinates in this model's frame, or a SkyCoord as ``lon`` (any frame).
        energy : `~astropy.units.Quantity`, optional
            Energy (energy-dependent templates only).
        """
        lon, lat = _lonlat_values(lon, lat, self.frame)
        return u.Quantity(self.evaluate(lon, lat, *self.parameter_values()), "sr-1")

    def _pars_in_frame(self, frame):
        """Parameter floats with the centre (and phi) expressed in ``frame`` (cached)."""
        pars = self.parameter_values()
        if frame == self.frame or not self._has_position:
            return pars
        key = (pars[0], pars[1], frame)
        cached = self._frame_cache.get(key)
        if cached is None:
            if len(self._frame_cache) > 256:
                self._frame_cache.clear()
            cached = self._frame_cache[key] = _centre_in_frame(pars[0], pars[1], self.frame, frame)
        pars = list(pars)
        pars[0], pars[1] = cached[0], cached[1]
        names = [p.name for p in self._defaults()]
        if "phi" in names:
            pars[names.index("phi")] += cached[2]
        return tuple(pars)

    def evaluate_geom(self, geom):
        """Surface brightness (Quantity, sr-1) at the pixel centres of a `WcsGeom`.

        Shape ``(1,) * n_axes + (ny, nx)`` (broadcastable to ``geom.data_shape``).
        """
        lon, lat = geom_lonlat(geom, _geom_frame(geom))
        pars = self._pars_in_frame(_geom_frame(geom))
        values = self.evaluate(lon, lat, *pars)
        shape = (1,) * len(geom.axes) + values.shape
        return u.Quantity(values.reshape(shape), "sr-1")

    def _auto_oversampling(self, geom, pars):
        scale = self._oversampling_scale_deg(pars)
        if scale is None or not scale > 0:
            return 1
        binsz = float(np.abs(geom.wcs.wcs.cdelt).max())
        return int(np.clip(np.ceil(OVERSAMPLING_RESOLUTION * binsz / scale), 1, 50))

    def _integration_pars(self, pars, subpixel_deg):
        """Parameters used for pixel integration (disks widen their edge to the sub-pixel size)."""
        return pars

    def integrate_image(self, geom, oversampling_factor=None):
        """Float fast path of `integrate_geom`: flux fractions, shape (ny, nx), float64.

        Parameters
        ----------
        geom : `~gammalike.maps.WcsGeom`
            Geometry (only its spatial part is used).
        oversampling_factor : int, optional
            Sub-pixels per pixel side; default from the model's smallest scale
            and the pixel size (1 ... 50).
        """
        frame = _geom_frame(geom)
        pars = self._pars_in_frame(frame)
        n = self._auto_oversampling(geom, pars) if oversampling_factor is None else int(oversampling_factor)
        binsz = float(np.abs(geom.wcs.wcs.cdelt).max())
        pars = self._integration_pars(pars, binsz / max(n, 1))
        radius = self._evaluation_radius_deg(pars)
        centre = pars[:2] if self._has_position else (0.0, 0.0)

        def func(lon, lat):
            return self.evaluate(lon, lat, *pars)

        return integrate_image(func, geom, centre[0], centre[1], radius, n, frame)

    def integrate_geom(self, geom, oversampling_factor=None):
        """Fraction of the model's flux in each pixel of ``geom`` (dimensionless `Map`).

        The map has the geometry ``geom``; for energy-independent models the
        image is repeated along the non-spatial axes.  It sums to 1 over a
        map containing the whole source.

        Parameters
        ----------
        geom : `~gammalike.maps.WcsGeom`
            Geometry.
        oversampling_factor : int, optional
            Sub-pixels per pixel side (default: automatic, see `integrate_image`).
        """
        from ...maps import Map

        image = self.integrate_image(geom, oversampling_factor=oversampling_factor)
        data = np.broadcast_to(image, geom.data_shape).copy() if geom.axes else image
        return Map.from_geom(geom, data=data, unit="")

    # ------------------------------------------------------------------ regions / plots
    def to_region(self, **kwargs):
        """Sky region outlining the model (see the subclasses)."""
        raise NotImplementedError(f"{self.__class__.__name__}.to_region is not implemented")

    def _default_plot_geom(self):
        from ...maps import WcsGeom

        if self.position is None:
            raise ValueError(f"{self.__class__.__name__}.plot: give a geom (the model has no position)")
        radius = self._evaluation_radius_deg(self.parameter_values()) or 0.0
        width = max(2.2 * radius, 0.5)
        return WcsGeom.create(skydir=self.position, width=width, binsz=width / 100, frame=self.frame)

    def plot(self, ax=None, geom=None, **kwargs):
        """Image of the surface brightness (sr-1) on ``geom`` (default: around the source).

        Returns the `~astropy.visualization.wcsaxes.WCSAxes`.
        """
        from ...maps import Map

        geom = self._default_plot_geom() if geom is None else geom
        image = geom.to_image() if geom.axes else geom
        if isinstance(self, PointSpatialModel):
            values = self.integrate_image(image) / _solid_angle(image)
        else:
            values = self.evaluate_geom(image).to_value("sr-1")
        m = Map.from_geom(image, data=np.asarray(values).reshape(image.data_shape), unit="sr-1")
        return m.plot(ax=ax, **kwargs)

    def plot_error(self, ax=None, **kwargs):
        """Draw the position error ellipse (`position_error`) on WCS axes (default: a new `plot`)."""
        if ax is None:
            ax = self.plot()
        if not hasattr(ax, "wcs"):
            raise TypeError("plot_error: ax must be a WCSAxes (e.g. the axes returned by plot())")
        kwargs.setdefault("edgecolor", "red")
        kwargs.setdefault("facecolor", "none")
        region = self.position_error
        if region is None:
            return ax
        region.to_pixel(ax.wcs).plot(ax=ax, **kwargs)
        x, y = ax.wcs.world_to_pixel(self.position.transform_to(_wcs_frame_name(ax.wcs)))
        ax.plot(x, y, marker="+", color=kwargs["edgecolor"], ls="none")
        return ax

    # ------------------------------------------------------------------ YAML
    def to_dict(self, full_output=False):
        data = super().to_dict(full_output)
        return {"type": data["type"], "frame": self.frame, "parameters": data["parameters"]}

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "type" in data and data["type"] not in _tag_list(cls):
            from .core import MODEL_REGISTRY

            return MODEL_REGISTRY["spatial"].get_cls(data["type"]).from_dict(data, **kwargs)
        model = cls(frame=data.get("frame", "icrs"), **kwargs)
        model._update_parameters_from_dict(data.get("parameters", []))
        return model

    def __str__(self):
        return super().__str__().replace("\n\n", f"\n\n  frame: {self.frame}\n\n", 1)


_ROTATIONS = {}


def _rotation_matrix(frame_from, frame_to):
    """3x3 rotation between two frames related by a fixed rotation (icrs, fk5, galactic), cached."""
    key = (frame_from, frame_to)
    if key not in _ROTATIONS:
        # the unit vectors x, y, z of frame_from as points on the sphere
        axes = SkyCoord([0.0, 90.0, 0.0], [0.0, 0.0, 90.0], unit="deg", frame=frame_from)
        cart = axes.transform_to(frame_to).cartesian
        # column j: image of the j-th unit vector
        _ROTATIONS[key] = np.array([cart.x.value, cart.y.value, cart.z.value], dtype=float)
    return _ROTATIONS[key]


def _centre_in_frame(lon, lat, frame_from, frame_to):
    """(lon, lat, dphi) of a centre in another frame; dphi rotates position angles (deg)."""
    if "fk4" in (frame_from, frame_to):
        # not a pure rotation (E-terms): let astropy transform a point and its north neighbour
        centre = SkyCoord(lon, lat, unit="deg", frame=frame_from)
        north = centre.directional_offset_by(0 * u.deg, 1 * u.arcsec)
        both = SkyCoord([centre.spherical.lon, north.spherical.lon],
                        [centre.spherical.lat, north.spherical.lat], frame=frame_from).transform_to(frame_to)
        lon2, lat2 = both.spherical.lon.deg, both.spherical.lat.deg
        return float(lon2[0]), float(lat2[0]), float(position_angle_deg(lon2[0], lat2[0], lon2[1], lat2[1]))
    rot = _rotation_matrix(frame_from, frame_to)
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    vec = np.array([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])
    north = np.array([-np.sin(lat_r) * np.cos(lon_r), -np.sin(lat_r) * np.sin(lon_r), np.cos(lat_r)])
    vec, north = rot @ vec, rot @ north
    lon2 = np.arctan2(vec[1], vec[0])
    lat2 = np.arcsin(np.clip(vec[2], -1, 1))
    east2 = np.array([-np.sin(lon2), np.cos(lon2), 0.0])
    north2 = np.array([-np.sin(lat2) * np.cos(lon2), -np.sin(lat2) * np.sin(lon2), np.cos(lat2)])
    dphi = np.degrees(np.arctan2(north @ east2, north @ north2))
    return float(np.degrees(lon2) % 360), float(np.degrees(lat2)), float(dphi)


def _tag_list(cls):
    return list(cls.tag) if isinstance(cls.tag, (list, tuple)) else [cls.tag]


def _geom_frame(geom):
    frame = geom.frame
    return "icrs" if frame == "fk5" else frame


def _wcs_frame_name(wcs):
    return "galactic" if wcs.wcs.ctype[0].upper().startswith("GLON") else "icrs"


def _solid_angle(geom):
    from .spatial_integrate import geom_solid_angle

    return geom_solid_angle(geom)


def _lonlat_values(lon, lat, frame):
    """(lon, lat) float arrays in deg from Quantities/floats, or a SkyCoord given as lon."""
    if isinstance(lon, SkyCoord):
        coord = lon.transform_to(frame) if lon.frame.name != frame else lon
        return coord.spherical.lon.deg, coord.spherical.lat.deg
    if lat is None:
        raise TypeError("spatial model call: give lon and lat, or a SkyCoord")
    lon = lon.to_value(u.deg) if isinstance(lon, u.Quantity) else lon
    lat = lat.to_value(u.deg) if isinstance(lat, u.Quantity) else lat
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _ellipse_region(model, semi_major, e, phi, **kwargs):
    from regions import EllipseSkyRegion

    minor = semi_major * np.sqrt(1 - e ** 2)
    return EllipseSkyRegion(
        center=model.position, height=2 * semi_major * u.deg, width=2 * minor * u.deg,
        angle=Angle(phi, "deg"), **kwargs,
    )


class PointSpatialModel(SpatialModel):
    """Point source at (lon_0, lat_0).

    `integrate_geom` shares the unit flux between the four pixels whose
    centres surround the position, with bilinear weights: the flux centroid
    stays at the exact position, so predicted counts (after the PSF
    convolution) vary smoothly with lon_0 / lat_0 during a fit.
    """

    tag = ["PointSpatialModel", "point"]
    lon_0, lat_0 = _lon_lat()

    def evaluate(self, lon, lat, lon_0, lat_0):
        """Zero except at the exact position (a delta function has no finite brightness)."""
        sep = sky_offset(lon, lat, lon_0, lat_0)[0]
        return np.where(sep == 0, np.inf, 0.0)

    def _evaluation_radius_deg(self, pars):
        return 0.0

    @property
    def evaluation_radius(self):
        return Angle(0.0, "deg")

    def integrate_image(self, geom, oversampling_factor=None):
        lon_0, lat_0 = self._pars_in_frame(_geom_frame(geom))[:2]
        return bilinear_weights_image(geom, lon_0, lat_0)

    def to_region(self, **kwargs):
        from regions import PointSkyRegion

        return PointSkyRegion(center=self.position, **kwargs)


class GaussianSpatialModel(SpatialModel):
    r"""Two-dimensional Gaussian, optionally elongated.

    .. math::
        \phi(r) = \frac{1}{2 \pi \sigma^2 \sqrt{1 - e^2}} \exp\left(-\frac{r_e^2}{2 \sigma^2}\right)

    with ``r_e`` the separation scaled to the major axis (see the module
    docstring).  Small-angle normalisation; ``sigma`` is the semi-major axis.
    """

    tag = ["GaussianSpatialModel", "gauss"]
    lon_0, lat_0 = _lon_lat()
    sigma = Parameter("sigma", "1 deg", min=0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)

    def evaluate(self, lon, lat, lon_0, lat_0, sigma, e, phi):
        radius = elliptical_radius(lon, lat, lon_0, lat_0, e, phi)
        sigma_rad = np.radians(sigma)
        norm = 1.0 / (2 * np.pi * sigma_rad ** 2 * np.sqrt(1 - e ** 2))
        return norm * np.exp(-0.5 * (radius / sigma) ** 2)

    def _evaluation_radius_deg(self, pars):
        return 5.0 * pars[2]

    def _oversampling_scale_deg(self, pars):
        return pars[2] * np.sqrt(1 - pars[3] ** 2)

    def to_region(self, **kwargs):
        """`~regions.EllipseSkyRegion` of semi-axes sigma and sigma * sqrt(1 - e^2)."""
        return _ellipse_region(self, self.sigma.value_in(u.deg), self.e.value, self.phi.value_in(u.deg), **kwargs)


class GeneralizedGaussianSpatialModel(SpatialModel):
    r"""Generalized Gaussian ``exp(-(r_e / r_0)^(1 / eta))``.

    .. math::
        \phi(r) = \frac{1}{2 \pi \sqrt{1 - e^2} r_0^2 \eta \Gamma(2\eta)}
                  \exp\left[-\left(\frac{r_e}{r_0}\right)^{1/\eta}\right]

    ``eta = 0.5`` is a Gaussian of sigma ``r_0 / sqrt(2)``, ``eta = 1`` an
    exponential profile.
    """

    tag = ["GeneralizedGaussianSpatialModel", "gauss-general"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    eta = Parameter("eta", 0.5, min=0.01, max=1.0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)

    def evaluate(self, lon, lat, lon_0, lat_0, r_0, eta, e, phi):
        from scipy.special import gamma

        radius = elliptical_radius(lon, lat, lon_0, lat_0, e, phi)
        r0_rad = np.radians(r_0)
        norm = 1.0 / (2 * np.pi * np.sqrt(1 - e ** 2) * r0_rad ** 2 * eta * gamma(2 * eta))
        return norm * np.exp(-((radius / r_0) ** (1.0 / eta)))

    def _evaluation_radius_deg(self, pars):
        from scipy.special import gammainccinv

        # radius containing all but 1e-6 of the flux: Gamma(2 eta, u) / Gamma(2 eta) = 1e-6
        r_0, eta = pars[2], pars[3]
        return float(r_0 * gammainccinv(2 * eta, 1e-6) ** eta)

    def _oversampling_scale_deg(self, pars):
        return pars[2] * np.sqrt(1 - pars[4] ** 2)

    def to_region(self, **kwargs):
        """`~regions.EllipseSkyRegion` of semi-axes r_0 and r_0 * sqrt(1 - e^2)."""
        return _ellipse_region(self, self.r_0.value_in(u.deg), self.e.value, self.phi.value_in(u.deg), **kwargs)


class DiskSpatialModel(SpatialModel):
    r"""Uniform (optionally elliptical) disk with a smooth edge.

    The profile is ``(1 - tanh((r_e - r_0) / k)) / 2`` with the tanh scale
    ``k = edge_width * r_0 / (2 artanh 0.9)``: as gammapy documents,
    ``edge_width`` (relative to ``r_0``) is the width over which the
    brightness drops from 95 % to 5 %.  ``edge_width = 0`` is a sharp edge.
    The normalisation is exact for this profile on the sphere (to order
    ``k^4``): ``2 pi (1 - cos r_0) + pi^3 k^2 cos(r_0) / 12``, times
    ``sqrt(1 - e^2)``.

    In `integrate_geom` the edge is widened to the sub-pixel size
    (``k_eff^2 = k^2 + h^2 / pi^2``, the tanh profile averaged over a
    sub-pixel of width ``h``): pixel values then vary smoothly with r_0 and
    the position, which a fit needs.
    """

    tag = ["DiskSpatialModel", "disk"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    e = Parameter("e", 0, min=0, max=1, frozen=True)
    phi = Parameter("phi", "0 deg", frozen=True)
    edge_width = Parameter("edge_width", 0.01, min=0, max=1, frozen=True)

    @staticmethod
    def _norm(r_0, e, k):
        r0, k = np.radians(r_0), np.radians(k)
        area = 2 * np.pi * (1 - np.cos(r0)) + np.pi ** 3 * k ** 2 * np.cos(r0) / 12
        return 1.0 / (area * np.sqrt(1 - e ** 2))

    def evaluate(self, lon, lat, lon_0, lat_0, r_0, e, phi, edge_width):
        radius = elliptical_radius(lon, lat, lon_0, lat_0, e, phi)
        k = edge_width * r_0 / _EDGE_WIDTH_TO_SCALE
        if k > 0:
            profile = 0.5 * (1 - np.tanh((radius - r_0) / k))
        else:
            profile = np.where(radius <= r_0, 1.0, 0.0)
        return self._norm(r_0, e, k) * profile

    def _evaluation_radius_deg(self, pars):
        r_0, edge_width = pars[2], pars[5]
        k = edge_width * r_0 / _EDGE_WIDTH_TO_SCALE
        # beyond r_0 + 5 k the profile is < 5e-5 of the centre value
        return r_0 + max(edge_width * r_0, 5 * k)

    def _oversampling_scale_deg(self, pars):
        return pars[2] * np.sqrt(1 - pars[3] ** 2)

    def _integration_pars(self, pars, subpixel_deg):
        pars = list(pars)
        r_0 = pars[2]
        if r_0 > 0:
            k = pars[5] * r_0 / _EDGE_WIDTH_TO_SCALE
            k_eff = np.sqrt(k ** 2 + (subpixel_deg / np.pi) ** 2)
            pars[5] = k_eff * _EDGE_WIDTH_TO_SCALE / r_0
        return tuple(pars)

    def to_region(self, **kwargs):
        """`~regions.EllipseSkyRegion` of semi-axes r_0 and r_0 * sqrt(1 - e^2)."""
        return _ellipse_region(self, self.r_0.value_in(u.deg), self.e.value, self.phi.value_in(u.deg), **kwargs)


class ConstantSpatialModel(SpatialModel):
    """Constant surface brightness ``value`` (sr-1); `integrate_geom` gives value * solid angle."""

    tag = ["ConstantSpatialModel", "const"]
    value = Parameter("value", "1 sr-1", frozen=True)

    def evaluate(self, lon, lat, value):
        return np.full(np.broadcast(lon, lat).shape, value, dtype=float)

    @property
    def position(self):
        return None

    @property
    def position_lonlat(self):
        return None

    @property
    def evaluation_region(self):
        return None

    def integrate_image(self, geom, oversampling_factor=None):
        return self.value.value_in(u.Unit("sr-1")) * np.array(_solid_angle(geom))

    def to_region(self, **kwargs):
        """None: the model covers the whole sky."""
        return None
