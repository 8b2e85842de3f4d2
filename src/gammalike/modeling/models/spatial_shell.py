"""Projected spherical shells of uniform volume emissivity.

A shell between radii ``R_in`` and ``R_out`` seen in projection has the
surface brightness (small-angle, radii in radians)

.. math::
    \\phi(r) = \\frac{3}{2 \\pi (R_{out}^3 - R_{in}^3)}
               \\left[\\sqrt{R_{out}^2 - r^2} - \\sqrt{R_{in}^2 - r^2}\\right]

(each square root is 0 where its argument is negative), normalised to a unit
integral: ``int 2 pi r sqrt(R^2 - r^2) dr = 2 pi R^3 / 3``.
"""
import numpy as np
from astropy import units as u

from ..parameter import Parameter
from .spatial import SpatialModel, _lon_lat
from .spatial_integrate import sky_offset

__all__ = ["ShellSpatialModel", "Shell2SpatialModel", "shell_profile"]


def shell_profile(sep, r_in, r_out):
    """Normalised brightness (sr-1) of a projected shell at separations ``sep`` (all deg)."""
    sep, r_in, r_out = np.radians(sep), np.radians(r_in), np.radians(r_out)
    volume = r_out ** 3 - r_in ** 3
    if not volume > 0:
        return np.zeros(np.shape(sep))
    outer = np.sqrt(np.clip(r_out ** 2 - sep ** 2, 0, None))
    inner = np.sqrt(np.clip(r_in ** 2 - sep ** 2, 0, None))
    return 3.0 / (2 * np.pi * volume) * (outer - inner)


def _annulus(model, r_in, r_out, **kwargs):
    from regions import CircleAnnulusSkyRegion

    return CircleAnnulusSkyRegion(
        center=model.position, inner_radius=r_in * u.deg, outer_radius=r_out * u.deg, **kwargs
    )


class ShellSpatialModel(SpatialModel):
    """Projected uniform shell between ``radius`` and ``radius + width``."""

    tag = ["ShellSpatialModel", "shell"]
    lon_0, lat_0 = _lon_lat()
    radius = Parameter("radius", "1 deg", min=0)
    width = Parameter("width", "0.2 deg", min=0)

    def evaluate(self, lon, lat, lon_0, lat_0, radius, width):
        sep = sky_offset(lon, lat, lon_0, lat_0)[0]
        return shell_profile(sep, radius, radius + width)

    def _evaluation_radius_deg(self, pars):
        return pars[2] + pars[3]

    def _oversampling_scale_deg(self, pars):
        # the profile's slope is infinite at both radii: resolve the width finely
        return (pars[3] if pars[3] > 0 else pars[2]) / 5

    def to_region(self, **kwargs):
        """`~regions.CircleAnnulusSkyRegion` between the inner and outer radii."""
        radius, width = self.radius.value_in(u.deg), self.width.value_in(u.deg)
        return _annulus(self, radius, radius + width, **kwargs)


class Shell2SpatialModel(SpatialModel):
    """Projected uniform shell of outer radius ``r_0`` and relative width ``eta``.

    The inner radius is ``r_0 * (1 - eta)``.
    """

    tag = ["Shell2SpatialModel", "shell2"]
    lon_0, lat_0 = _lon_lat()
    r_0 = Parameter("r_0", "1 deg", min=0)
    eta = Parameter("eta", 0.2, min=0.02, max=1)

    def evaluate(self, lon, lat, lon_0, lat_0, r_0, eta):
        sep = sky_offset(lon, lat, lon_0, lat_0)[0]
        return shell_profile(sep, r_0 * (1 - eta), r_0)

    def _evaluation_radius_deg(self, pars):
        return pars[2]

    def _oversampling_scale_deg(self, pars):
        return pars[2] * pars[3] / 5

    def to_region(self, **kwargs):
        """`~regions.CircleAnnulusSkyRegion` between the inner and outer radii."""
        r_0, eta = self.r_0.value_in(u.deg), self.eta.value
        return _annulus(self, r_0 * (1 - eta), r_0, **kwargs)
