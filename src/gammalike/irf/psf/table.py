"""`PSF3D`: tabulated PSF vs true energy, offset and rad (GADF ``PSF_TABLE``)."""
import numpy as np
import astropy.units as u

from gammalike.maps import MapAxis

from .core import PSF, DEG2_TO_SR

__all__ = ["PSF3D"]


class PSF3D(PSF):
    """PSF ``dP/dOmega`` tabulated in bins of true energy, offset and rad.

    The table value is treated as constant inside each rad bin for the
    containment (exact cumulative integral, linear in ``r^2`` inside a bin).

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy_true``, ``offset`` and ``rad`` axes.
    data : `~numpy.ndarray`
        PSF of shape (n_energy_true, n_offset, n_rad) in ``unit`` (sr-1).
    """

    tag = "psf_table"
    required_axes = ("energy_true", "offset", "rad")
    _data_columns = ("RPSF",)
    _hduclas4 = "PSF_TABLE"

    def _evaluate_float(self, rad, energy, offset):
        scale = self.unit.to("sr-1")
        return self.evaluate_float(energy, offset, rad) * scale

    def _cdf_at_edges(self, energy, offset):
        """Containment at the rad edges, shape ``broadcast(energy, offset).shape + (n_rad + 1,)``."""
        rad = self.axes["rad"]
        e, o = np.broadcast_arrays(np.asarray(energy, float), np.asarray(offset, float))
        values = self.evaluate_float(e[..., None], o[..., None], rad._center)
        values = np.clip(values, 0, None) * self.unit.to("sr-1")
        edges = rad._edges
        ring = np.pi * np.diff(edges ** 2) * DEG2_TO_SR
        cdf = np.cumsum(values * ring, axis=-1)
        return np.concatenate([np.zeros(cdf.shape[:-1] + (1,)), cdf], axis=-1)

    def _containment_float(self, rad, energy, offset):
        rad, energy, offset = np.broadcast_arrays(
            np.asarray(rad, float), np.asarray(energy, float), np.asarray(offset, float)
        )
        cdf = self._cdf_at_edges(energy, offset)
        edges = self.axes["rad"]._edges
        idx = np.clip(np.searchsorted(edges, rad, side="right") - 1, 0, edges.size - 2)
        r2_lo, r2_hi = edges[idx] ** 2, edges[idx + 1] ** 2
        frac = np.clip((rad ** 2 - r2_lo) / (r2_hi - r2_lo), 0.0, 1.0)
        lo = np.take_along_axis(cdf, idx[..., None], axis=-1)[..., 0]
        hi = np.take_along_axis(cdf, idx[..., None] + 1, axis=-1)[..., 0]
        return lo + frac * (hi - lo)

    def _containment_radius_float(self, fraction, energy, offset):
        fraction, energy, offset = np.broadcast_arrays(
            np.asarray(fraction, float), np.asarray(energy, float), np.asarray(offset, float)
        )
        cdf = self._cdf_at_edges(energy, offset)
        edges = self.axes["rad"]._edges
        above = cdf >= fraction[..., None]
        reached = above.any(axis=-1)
        idx = np.clip(np.argmax(above, axis=-1), 1, edges.size - 1)
        lo = np.take_along_axis(cdf, idx[..., None] - 1, axis=-1)[..., 0]
        hi = np.take_along_axis(cdf, idx[..., None], axis=-1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip((fraction - lo) / (hi - lo), 0.0, 1.0)
        t = np.where(np.isfinite(t), t, 0.0)
        r2 = edges[idx - 1] ** 2 + t * (edges[idx] ** 2 - edges[idx - 1] ** 2)
        radius = np.sqrt(r2)
        radius = np.where(fraction <= 0, 0.0, radius)
        return np.where(reached, radius, np.nan)

    def normalize(self):
        """Scale the table so that the containment at the last rad edge is 1 everywhere."""
        ring = np.pi * np.diff(self.axes["rad"]._edges ** 2) * DEG2_TO_SR * self.unit.to("sr-1")
        total = np.sum(self.data * ring, axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.data = np.where(total > 0, self.data / total, 0.0)

    @classmethod
    def from_gauss(cls, energy_axis_true, offset_axis, rad_axis=None, sigma=0.1 * u.deg):
        """Gaussian PSF table, ``sigma`` a Quantity (scalar or per energy)."""
        if rad_axis is None:
            rad_axis = MapAxis.from_bounds(0, 1, nbin=100, name="rad", unit="deg")
        sigma = np.broadcast_to(u.Quantity(sigma, "deg").value, (energy_axis_true.nbin,))
        sig_sr = sigma[:, None, None] ** 2 * DEG2_TO_SR
        r = rad_axis.center.to_value("deg")[None, None, :]
        values = np.exp(-0.5 * r ** 2 / sigma[:, None, None] ** 2) / (2 * np.pi * sig_sr)
        values = np.repeat(values, offset_axis.nbin, axis=1)
        return cls(axes=[energy_axis_true, offset_axis, rad_axis], data=values, unit="sr-1")
