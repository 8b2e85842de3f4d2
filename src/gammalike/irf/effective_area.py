"""`EffectiveAreaTable2D`: effective area vs true energy and offset (GADF ``AEFF_2D``)."""
import numpy as np
import astropy.units as u

from gammalike.maps import MapAxis

from .core import IRF, _get_ax

__all__ = ["EffectiveAreaTable2D"]

# Simple smooth curves for tests and simulations (not fits to real IRFs):
# A(E) = A_max * exp(-(E_th / E)^k) -- a plateau above a threshold E_th.
_PARAMETRIZATIONS = {
    "HESS": dict(area_max=1.0e5, energy_threshold=0.3, index=1.5),   # m2, TeV
    "HESS2": dict(area_max=1.0e5, energy_threshold=0.1, index=1.5),
    "CTA": dict(area_max=1.0e6, energy_threshold=0.05, index=1.2),
}


class EffectiveAreaTable2D(IRF):
    """Effective area as a function of true energy and field-of-view offset.

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy_true`` and ``offset`` axes.
    data : `~numpy.ndarray` or `~astropy.units.Quantity`
        Effective area of shape (n_energy_true, n_offset).
    unit : str
        Unit of the data (e.g. "m2").

    Examples
    --------
    >>> aeff = EffectiveAreaTable2D.read("$GAMMAPY_DATA/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", hdu="AEFF")  # doctest: +SKIP
    >>> aeff.evaluate(energy_true="1 TeV", offset="0.5 deg")  # doctest: +SKIP
    """

    tag = "aeff_2d"
    required_axes = ("energy_true", "offset")
    default_unit = u.m ** 2
    _data_columns = ("EFFAREA", "SPECRESP")
    _hduclas2 = "EFF_AREA"
    _hduclas4 = "AEFF_2D"
    _default_hdu = "EFFECTIVE AREA"

    @classmethod
    def from_parametrization(cls, energy_axis_true=None, instrument="HESS"):
        """Smooth effective area constant in offset, for tests and simulations.

        ``A(E) = A_max exp(-(E_th / E)^k)`` with (A_max, E_th, k) =
        (1e5 m2, 0.3 TeV, 1.5) for "HESS", (1e5 m2, 0.1 TeV, 1.5) for "HESS2"
        and (1e6 m2, 0.05 TeV, 1.2) for "CTA".
        """
        if instrument not in _PARAMETRIZATIONS:
            raise ValueError(
                f"EffectiveAreaTable2D.from_parametrization: unknown instrument {instrument!r}, "
                f"expected one of {list(_PARAMETRIZATIONS)}"
            )
        if energy_axis_true is None:
            energy_axis_true = MapAxis.from_energy_bounds(
                "0.02 TeV", "100 TeV", nbin=10, per_decade=True, name="energy_true"
            )
        pars = _PARAMETRIZATIONS[instrument]
        energy = energy_axis_true.center.to_value("TeV")
        area = pars["area_max"] * np.exp(-((pars["energy_threshold"] / energy) ** pars["index"]))
        offset_axis = MapAxis.from_edges([0.0, 5.0], unit="deg", name="offset")
        return cls(
            axes=[energy_axis_true, offset_axis], data=area[:, np.newaxis], unit="m2",
            meta={"TELESCOP": instrument},
        )

    def evaluate(self, method=None, **kwargs):
        """Effective area at ``energy_true`` and ``offset`` (Quantities)."""
        return super().evaluate(method=method, **kwargs)

    @property
    def max_area(self):
        """Maximum effective area over energy at the smallest offset."""
        return self.quantity[:, 0].max()

    # ------------------------------------------------------------------ plots
    def plot_energy_dependence(self, ax=None, offset=None, **kwargs):
        """Effective area vs true energy at a few offsets."""
        ax = _get_ax(ax)
        energy = self.axes["energy_true"]
        if offset is None:
            off = self.axes["offset"]
            offset = u.Quantity(np.linspace(off.center[0].value, off.center[-1].value, 4), off.unit)
        for value in np.atleast_1d(offset):
            area = self.evaluate(energy_true=energy.center, offset=value)
            ax.plot(energy.center, area.to_value("m2"), label=f"offset = {value:.2f}", **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel("Effective area [m2]")
        ax.legend(loc="lower right")
        return ax

    def plot_offset_dependence(self, ax=None, energy=None, **kwargs):
        """Effective area vs offset at a few true energies."""
        ax = _get_ax(ax)
        offset = self.axes["offset"]
        if energy is None:
            e = self.axes["energy_true"]
            energy = u.Quantity(np.geomspace(e.center[0].value, e.center[-1].value, 4), e.unit)
        off = u.Quantity(np.linspace(offset.center[0].value, offset.center[-1].value, 50), offset.unit)
        for value in np.atleast_1d(energy):
            area = self.evaluate(energy_true=value, offset=off)
            ax.plot(off, area.to_value("m2"), label=f"energy = {value:.2f}", **kwargs)
        ax.set_xlabel(f"Offset [{offset.unit}]")
        ax.set_ylabel("Effective area [m2]")
        ax.legend(loc="upper right")
        return ax

    def plot(self, ax=None, add_cbar=True, **kwargs):
        """Image of the effective area vs true energy and offset."""
        ax = _get_ax(ax)
        energy, offset = self.axes["energy_true"], self.axes["offset"]
        im = ax.pcolormesh(energy.edges.value, offset.edges.value, self.quantity.to_value("m2").T, **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel(f"Offset [{offset.unit}]")
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label="Effective area [m2]")
        return ax

    def peek(self, figsize=(15, 5)):
        """Quick-look plots: energy dependence, offset dependence, image."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=figsize)
        self.plot_energy_dependence(ax=axes[0])
        self.plot_offset_dependence(ax=axes[1])
        self.plot(ax=axes[2])
        plt.tight_layout()
        return axes
