"""Background rate IRFs: `Background2D` (energy, offset) and `Background3D` (energy, fov_lon, fov_lat)."""
import logging
import warnings
from enum import Enum

import numpy as np
import astropy.units as u

from .core import IRF, _get_ax, parse_unit

__all__ = ["Background2D", "Background3D", "FoVAlignment", "BackgroundIRF"]

log = logging.getLogger(__name__)

_DEFAULT_BKG_UNIT = u.Unit("s-1 MeV-1 sr-1")


class FoVAlignment(str, Enum):
    """Orientation of the field-of-view coordinates (``FOVALIGN`` header keyword).

    * ``ALTAZ``: fov_lon / fov_lat aligned with azimuth / altitude.
    * ``RADEC``: aligned with right ascension / declination.
    * ``REVERSE_LON_RADEC``: as RADEC with the longitude axis reversed
      (files written with DETX pointing towards decreasing RA).
    """

    ALTAZ = "ALTAZ"
    RADEC = "RADEC"
    REVERSE_LON_RADEC = "REVERSE_LON_RADEC"


class BackgroundIRF(IRF):
    """Common part of the background IRFs: lenient unit parsing, log interpolation."""

    default_unit = _DEFAULT_BKG_UNIT
    _data_columns = ("BKG", "BGD")
    _hduclas2 = "BKG"
    _default_hdu = "BACKGROUND"
    default_interp_kwargs = dict(value_scale="log", fill_value=0.0)

    @classmethod
    def _unit_from_column(cls, table, colname):
        unit = parse_unit(table[colname].unit)
        if unit is None or not unit.is_equivalent(_DEFAULT_BKG_UNIT):
            # The CTA 1DC files carry e.g. "1/s/MeV/sr" which is not a FITS unit.
            warnings.warn(
                "Invalid unit found in background table! Assuming (s-1 MeV-1 sr-1)",
                UserWarning, stacklevel=3,
            )
            unit = _DEFAULT_BKG_UNIT
        return unit

    def _header(self):
        header = super()._header()
        header["FOVALIGN"] = self.fov_alignment.value
        return header

    def plot_spectrum(self, ax=None, **kwargs):
        """Plot the rate averaged over the field of view vs energy."""
        ax = _get_ax(ax)
        energy = self.axes["energy"]
        mean = self.data.reshape(energy.nbin, -1).mean(axis=1)
        ax.plot(energy.center, mean, **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_yscale("log")
        ax.set_ylabel(f"Background rate [{self.unit}]")
        return ax


class Background3D(BackgroundIRF):
    """Background rate vs reconstructed energy and field-of-view coordinates.

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy``, ``fov_lon`` and ``fov_lat`` axes.
    data : `~numpy.ndarray`
        Rate of shape (n_energy, n_lon, n_lat).
    unit : str
        Data unit (default s-1 MeV-1 sr-1).
    fov_alignment : `FoVAlignment`
        Orientation of the fov axes.
    """

    tag = "bkg_3d"
    required_axes = ("energy", "fov_lon", "fov_lat")
    _hduclas4 = "BKG_3D"

    def evaluate(self, method=None, **kwargs):
        """Rate at ``energy``, ``fov_lon``, ``fov_lat`` (log-interpolated)."""
        return super().evaluate(method=method, **kwargs)

    def to_2d(self):
        """`Background2D` by averaging over rings of offset (offset bins spaced like fov_lon)."""
        from gammalike.maps import MapAxis

        lon = self.axes["fov_lon"]
        lat = self.axes["fov_lat"]
        hi = min(np.abs(lon._edges).max(), np.abs(lat._edges).max())
        width = float(np.mean(np.diff(lon._edges)))
        nbin = max(int(np.round(hi / width)), 1)
        offset = MapAxis.from_bounds(0, hi, nbin=nbin, name="offset", unit=lon.unit)
        x, y = np.meshgrid(lon._center, lat._center, indexing="ij")
        r = np.hypot(x, y)
        idx = np.digitize(r.ravel(), offset._edges) - 1
        ok = (idx >= 0) & (idx < nbin)
        data = self.data.reshape(self.axes["energy"].nbin, -1)
        sums = np.zeros((data.shape[0], nbin))
        counts = np.bincount(idx[ok], minlength=nbin).astype(float)
        for_energy = data[:, ok]
        np.add.at(sums.T, idx[ok], for_energy.T)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, sums / counts, 0.0)
        return Background2D(axes=[self.axes["energy"], offset], data=mean, unit=self.unit, meta=dict(self.meta))

    def _default_plot_energies(self, n):
        """``n`` energies spread (in log) over the bins where the rate is not zero."""
        axis = self.axes["energy"]
        data = np.asarray(self.data, dtype=float).reshape(axis.nbin, -1)
        filled = np.flatnonzero(np.nansum(np.abs(data), axis=1) > 0)
        if filled.size == 0:
            filled = np.arange(axis.nbin)
        idx = filled[np.unique(np.round(np.linspace(0, filled.size - 1, n)).astype(int))]
        return axis.center[idx]

    def plot_at_energy(self, energy=None, add_cbar=True, ncols=3, figsize=None, **kwargs):
        """Images of the rate vs fov coordinates at several energies.

        Default energies: three spread over the bins where the rate is not zero.
        """
        import matplotlib.pyplot as plt

        if energy is None:
            energy = self._default_plot_energies(3)
        energy = u.Quantity(np.atleast_1d(energy.to_value("TeV") if hasattr(energy, "unit") else energy), "TeV")
        n = energy.size
        ncols = min(ncols, n)
        nrows = int(np.ceil(n / ncols))
        figsize = figsize or (4.5 * ncols, 4 * nrows)
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        lon, lat = self.axes["fov_lon"], self.axes["fov_lat"]
        for ax, e in zip(axes.flat, energy):
            values = self.evaluate(energy=e, fov_lon=lon.center[:, None], fov_lat=lat.center[None, :])
            im = ax.pcolormesh(lon.edges.value, lat.edges.value, values.value.T, **kwargs)
            ax.set_aspect("equal")
            ax.set_title(f"Energy {e:.3g}")
            ax.set_xlabel(f"FoV lon [{lon.unit}]")
            ax.set_ylabel(f"FoV lat [{lat.unit}]")
            if add_cbar:
                fig.colorbar(im, ax=ax, label=f"Background rate [{self.unit.to_string('latex_inline')}]")
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        fig.tight_layout()
        return axes

    def peek(self, figsize=(10, 8)):
        """Quick-look plot: the rate vs fov coordinates at four energies (2 x 2)."""
        return self.plot_at_energy(energy=self._default_plot_energies(4), ncols=2, figsize=figsize)


class Background2D(BackgroundIRF):
    """Radially symmetric background rate vs reconstructed energy and offset.

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy`` and ``offset`` axes.
    data : `~numpy.ndarray`
        Rate of shape (n_energy, n_offset).
    """

    tag = "bkg_2d"
    required_axes = ("energy", "offset")
    _hduclas4 = "BKG_2D"

    def to_3d(self):
        """`Background3D` on a square fov grid with the offset binning."""
        from gammalike.maps import MapAxis

        offset = self.axes["offset"]
        hi = offset._edges[-1] if offset.node_type == "edges" else offset._center[-1]
        nbin = 2 * offset.nbin
        lon = MapAxis.from_bounds(-hi, hi, nbin=nbin, name="fov_lon", unit=offset.unit)
        lat = lon.rename("fov_lat")
        r = np.hypot(lon._center[:, None], lat._center[None, :])
        values = self.evaluate_float(self.axes["energy"]._center[:, None, None], r[None])
        return Background3D(
            axes=[self.axes["energy"], lon, lat], data=values, unit=self.unit,
            meta=dict(self.meta), fov_alignment=self.fov_alignment,
        )

    def plot(self, ax=None, add_cbar=True, **kwargs):
        """Image of the rate vs energy and offset."""
        ax = _get_ax(ax)
        energy, offset = self.axes["energy"], self.axes["offset"]
        kwargs.setdefault("norm", "log")
        with np.errstate(divide="ignore"):
            data = np.where(self.data > 0, self.data, np.nan)
        im = ax.pcolormesh(energy.edges.value, offset.edges.value, data.T, **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel(f"Offset [{offset.unit}]")
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label=f"Background rate [{self.unit}]")
        return ax

    def plot_offset_dependence(self, ax=None, energy=None, **kwargs):
        """Rate vs offset at a few energies."""
        ax = _get_ax(ax)
        offset = self.axes["offset"]
        if energy is None:
            e = self.axes["energy"]
            energy = e.center[[0, e.nbin // 2, -1]]
        for en in np.atleast_1d(energy):
            values = self.evaluate(energy=en, offset=offset.center)
            ax.plot(offset.center, values, label=f"{en:.2f}", **kwargs)
        ax.set_xlabel(f"Offset [{offset.unit}]")
        ax.set_ylabel(f"Background rate [{self.unit}]")
        ax.set_yscale("log")
        ax.legend()
        return ax

    def plot_energy_dependence(self, ax=None, offset=None, **kwargs):
        """Rate vs energy at a few offsets."""
        ax = _get_ax(ax)
        energy = self.axes["energy"]
        if offset is None:
            o = self.axes["offset"]
            offset = o.center[[0, o.nbin // 2, -1]]
        for off in np.atleast_1d(offset):
            values = self.evaluate(energy=energy.center, offset=off)
            ax.plot(energy.center, values, label=f"offset {off:.2f}", **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_yscale("log")
        ax.set_ylabel(f"Background rate [{self.unit}]")
        ax.legend()
        return ax

    def peek(self, figsize=(10, 8)):
        """Quick-look plot: image, energy and offset dependence, spectrum."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=figsize)
        self.plot(ax=axes[0][0])
        self.plot_offset_dependence(ax=axes[0][1])
        self.plot_energy_dependence(ax=axes[1][0])
        self.plot_spectrum(ax=axes[1][1])
        plt.tight_layout()
        return axes
