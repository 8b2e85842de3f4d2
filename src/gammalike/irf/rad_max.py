"""`RadMax2D`: directional cut of point-like IRFs vs reconstructed energy and offset (GADF ``RAD_MAX_2D``)."""
import numpy as np
import astropy.units as u

from gammalike.maps import MapAxis

from .core import IRF, _get_ax

__all__ = ["RadMax2D"]


class RadMax2D(IRF):
    """Radius of the directional cut (theta cut) vs reconstructed energy and offset.

    Interpolation clamps to the table ends (a cut is defined everywhere).

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy`` and ``offset`` axes.
    data : `~numpy.ndarray`
        Cut radius of shape (n_energy, n_offset).
    unit : str
        Angle unit (default deg).
    """

    tag = "rad_max_2d"
    required_axes = ("energy", "offset")
    default_unit = u.deg
    _data_columns = ("RAD_MAX",)
    _hduclas2 = "RAD_MAX"
    _hduclas4 = "RAD_MAX_2D"
    _default_hdu = "RAD_MAX"
    default_interp_kwargs = dict(value_scale="lin", fill_value=None)

    def __init__(self, axes, data=0, unit="deg", **kwargs):
        kwargs.setdefault("is_pointlike", True)
        super().__init__(axes=axes, data=data, unit=unit, **kwargs)

    @classmethod
    def from_irf(cls, irf):
        """Constant cut from the ``RAD_MAX`` header keyword of a point-like IRF.

        Raises
        ------
        ValueError
            If the IRF is not point-like or has no ``RAD_MAX`` keyword.
        """
        if not irf.is_pointlike:
            raise ValueError(f"RadMax2D.from_irf: {type(irf).__name__} is not a point-like IRF")
        if "RAD_MAX" not in irf.meta:
            raise ValueError(
                f"RadMax2D.from_irf: {type(irf).__name__} has no RAD_MAX header keyword "
                "(energy-dependent cuts need a RAD_MAX HDU)"
            )
        value = float(irf.meta["RAD_MAX"])
        energy = irf.axes[0]
        energy = MapAxis.from_energy_edges(energy.edges[[0, -1]], name="energy")
        offset = irf.axes["offset"] if "offset" in irf.axes.names else MapAxis.from_edges(
            [0, 5], unit="deg", name="offset"
        )
        offset = offset.squash() if offset.node_type == "edges" else MapAxis.from_edges(
            offset.edges[[0, -1]], name="offset"
        )
        return cls(axes=[energy, offset], data=np.full((1, 1), value), unit="deg")

    @property
    def is_fixed_rad_max(self):
        """True if the cut does not depend on energy or offset."""
        return bool(np.all(self.data == self.data.flat[0]))

    def evaluate(self, method=None, **kwargs):
        """Cut radius at ``energy`` and ``offset`` (Quantities)."""
        return super().evaluate(method=method, **kwargs)

    def plot_rad_max_vs_energy(self, ax=None, **kwargs):
        """Cut radius vs energy at each offset node."""
        ax = _get_ax(ax)
        energy, offset = self.axes["energy"], self.axes["offset"]
        for idx, off in enumerate(offset.center):
            ax.plot(energy.center, self.quantity[:, idx].to_value("deg"), label=f"offset {off:.2f}", **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel("Rad max [deg]")
        ax.legend(loc="best")
        return ax

    def peek(self, figsize=(6, 4)):
        """Quick-look plot."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=figsize)
        return self.plot_rad_max_vs_energy(ax=ax)
