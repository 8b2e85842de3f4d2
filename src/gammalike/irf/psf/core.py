"""PSF base class: containment, containment radius and plots shared by all PSF IRFs.

Angles are small: the solid angle inside radius ``r`` is ``pi r^2`` (r in
radians) and the PDF ``dP/dOmega`` is in sr^-1.
"""
import numpy as np
import astropy.units as u
from astropy.coordinates import Angle

from ..core import IRF, _get_ax, _to_float

__all__ = ["PSF"]

DEG2_TO_SR = (np.pi / 180.0) ** 2


class PSF(IRF):
    """Base class of the radially symmetric PSFs (``rad`` = angle from the true position).

    Subclasses implement the float methods ``_evaluate_float(rad, energy, offset)``
    (sr^-1), ``_containment_float(rad, energy, offset)`` and
    ``_containment_radius_float(fraction, energy, offset)`` on arrays in deg / TeV.
    """

    default_unit = u.sr ** -1
    _hduclas2 = "PSF"
    _default_hdu = "POINT SPREAD FUNCTION"

    def _coords(self, rad=None, energy_true=None, offset=None):
        rad = 0.0 if rad is None else _to_float(rad, u.deg, "rad")
        energy = self.axes["energy_true"]._center if energy_true is None else _to_float(
            energy_true, u.TeV, "energy_true"
        )
        offset = 0.0 if offset is None else _to_float(offset, u.deg, "offset")
        return rad, energy, offset

    def evaluate(self, method=None, rad=None, energy_true=None, offset=None, **kwargs):
        """PSF value ``dP/dOmega`` (sr^-1) at ``rad``, ``energy_true`` and ``offset`` (broadcast)."""
        rad, energy, offset = self._coords(rad, energy_true, offset)
        return u.Quantity(self._evaluate_float(rad, energy, offset), "sr-1", copy=None)

    def containment(self, rad, energy_true, offset=0 * u.deg):
        """Fraction of events within ``rad`` of the true position (broadcast over the inputs)."""
        rad, energy, offset = self._coords(rad, energy_true, offset)
        return u.Quantity(self._containment_float(rad, energy, offset))

    def containment_radius(self, fraction, energy_true, offset=0 * u.deg):
        """Radius containing ``fraction`` of the events (NaN where the fraction is not reached)."""
        fraction = np.asarray(u.Quantity(fraction).to_value(""), dtype=float)
        _, energy, offset = self._coords(None, energy_true, offset)
        return Angle(self._containment_radius_float(fraction, energy, offset), "deg")

    def info(self, fraction=(0.68, 0.95), energy_true=(1.0, 10.0) * u.TeV, offset=0 * u.deg):
        """Containment radii at a few energies, as text."""
        lines = [str(self)]
        for f in np.atleast_1d(fraction):
            for e in np.atleast_1d(energy_true):
                r = self.containment_radius(f, e, offset)
                lines.append(f"  {100 * f:.0f}% containment radius at {e:.1f}, offset {offset:.1f}: {r:.3f}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ plots
    def plot_containment_radius_vs_energy(self, ax=None, fraction=(0.68, 0.95), offset=(0, 1) * u.deg, **kwargs):
        """Containment radius vs true energy for a few fractions and offsets."""
        ax = _get_ax(ax)
        energy = self.axes["energy_true"]
        e = np.geomspace(energy._edges[0], energy._edges[-1], 100) * energy.unit
        for off in np.atleast_1d(offset):
            for f in np.atleast_1d(fraction):
                radius = self.containment_radius(f, e, off)
                ax.plot(e, radius.deg, label=f"{100 * f:.0f}%, offset {off:.1f}", **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel("Containment radius [deg]")
        ax.legend(loc="upper right")
        return ax

    def plot_psf_vs_rad(self, ax=None, energy_true=(0.1, 1, 10) * u.TeV, offset=0 * u.deg, **kwargs):
        """PSF value vs rad for a few true energies."""
        ax = _get_ax(ax)
        rad = np.linspace(0, 0.5, 200) * u.deg
        for e in np.atleast_1d(energy_true):
            values = self.evaluate(rad=rad, energy_true=e, offset=offset)
            ax.plot(rad, values.value, label=f"{e:.1f}", **kwargs)
        ax.set_yscale("log")
        ax.set_xlabel("Rad [deg]")
        ax.set_ylabel("PSF [sr-1]")
        ax.legend(loc="upper right")
        return ax

    def plot_containment_radius(self, ax=None, fraction=0.68, add_cbar=True, **kwargs):
        """Image of the containment radius vs true energy and offset."""
        ax = _get_ax(ax)
        energy, offset = self.axes["energy_true"], self.axes["offset"]
        radius = self.containment_radius(
            fraction, energy.center[:, None], offset.center[None, :]
        )
        im = ax.pcolormesh(energy.edges.value, offset.edges.value, radius.deg.T, **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel(f"Offset [{offset.unit}]")
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label=f"{100 * fraction:.0f}% containment radius [deg]")
        return ax

    def peek(self, figsize=(15, 5)):
        """Quick-look plots."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=figsize)
        self.plot_containment_radius(ax=axes[0])
        self.plot_containment_radius_vs_energy(ax=axes[1])
        self.plot_psf_vs_rad(ax=axes[2])
        plt.tight_layout()
        return axes
