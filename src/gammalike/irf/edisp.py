"""`EnergyDispersion2D`: migration pdf vs true energy and offset (GADF ``EDISP_2D``).

The data are the probability density ``dP/dmu`` of the migration
``mu = E_reco / E_true`` in bins of true energy, migration and offset. The
pdf is treated as constant inside each migration bin, so its cumulative
distribution is exact and piecewise linear: reco-bin probabilities are
differences of that CDF (no sampling).

Kernels (`EnergyDispersion2D.get_edisp_kernel_matrix`, the makers' EDISP
maps) use the pdf normalised to unit integral over the tabulated migration
range at each (true energy, offset): the CTA 1DC files hold densities that
integrate to ~100-1000, which clipping would turn into rows of ones.  The
probability of a reco energy outside the reco axis is lost (rows are not
renormalised).  This is the convention of the reference-written
``tests/models/gc_example_data_gc.fits`` (see
tests/makers/test_reduction.py::test_gc_example_edisp_matches_reference_file).
"""
import numpy as np
import astropy.units as u
from scipy.special import ndtr

from .core import IRF, _get_ax, _to_float

__all__ = ["EnergyDispersion2D"]


class EnergyDispersion2D(IRF):
    """Energy dispersion as a function of true energy, migration and offset.

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy_true``, ``migra`` and ``offset`` axes.
    data : `~numpy.ndarray`
        Migration pdf ``dP/dmu`` of shape (n_energy_true, n_migra, n_offset).
    """

    tag = "edisp_2d"
    required_axes = ("energy_true", "migra", "offset")
    default_unit = u.one
    _data_columns = ("MATRIX",)
    _hduclas2 = "EDISP"
    _hduclas4 = "EDISP_2D"
    _default_hdu = "ENERGY DISPERSION"

    @classmethod
    def from_gauss(cls, energy_axis_true, migra_axis, offset_axis, bias, sigma, pdf_threshold=1e-6):
        """Gaussian migration pdf of mean ``1 + bias`` and width ``sigma`` (same at all offsets).

        ``bias`` and ``sigma`` are floats or arrays over the true energy axis. The
        pdf in each migration bin is the exact Gaussian probability of the bin
        divided by its width; values below ``pdf_threshold`` are set to 0.
        """
        n_e = energy_axis_true.nbin
        bias = np.broadcast_to(np.asarray(bias, dtype=float), (n_e,))[:, None]
        sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (n_e,))[:, None]
        edges = migra_axis.edges.to_value("")
        cdf = ndtr((edges[None, :] - 1.0 - bias) / sigma)
        pdf = np.diff(cdf, axis=1) / np.diff(edges)[None, :]
        pdf[pdf < pdf_threshold] = 0.0
        data = np.repeat(pdf[:, :, None], offset_axis.nbin, axis=2)
        return cls(axes=[energy_axis_true, migra_axis, offset_axis], data=data)

    # ------------------------------------------------------------------ core computations
    def _pdf_at(self, energy_true, offset):
        """pdf per migration bin at the given true energies / offsets (float, TeV / deg).

        Returns an array of shape ``broadcast(energy_true, offset).shape + (n_migra,)``.
        """
        migra = self.axes["migra"]._center
        e, o = np.broadcast_arrays(np.asarray(energy_true, float), np.asarray(offset, float))
        values = self.evaluate_float(e[..., None], migra, o[..., None])
        return np.clip(values, 0, None)

    def _cdf_at_edges(self, energy_true, offset):
        """Cumulative probability at the migration edges (shape ``... + (n_migra + 1,)``)."""
        pdf = self._pdf_at(energy_true, offset)
        width = np.diff(self.axes["migra"]._edges)
        cdf = np.cumsum(pdf * width, axis=-1)
        return np.concatenate([np.zeros(cdf.shape[:-1] + (1,)), cdf], axis=-1)

    def _cdf(self, migra, energy_true, offset):
        """Cumulative probability P(mu < migra) (vectorized, piecewise linear between edges).

        ``migra`` has shape ``S + (k,)`` where ``S`` is the broadcast shape of
        ``energy_true`` and ``offset``.
        """
        cdf_edges = self._cdf_at_edges(energy_true, offset)
        edges = self.axes["migra"]._edges
        migra = np.asarray(migra, dtype=float)
        idx = np.clip(np.searchsorted(edges, migra, side="right") - 1, 0, edges.size - 2)
        frac = np.clip((migra - edges[idx]) / (edges[idx + 1] - edges[idx]), 0.0, 1.0)
        lo = np.take_along_axis(cdf_edges, idx, axis=-1)
        hi = np.take_along_axis(cdf_edges, idx + 1, axis=-1)
        return lo + frac * (hi - lo)

    def _normalized_cdf(self, migra, energy_true, offset):
        """`_cdf` divided by the integral of the pdf over the migration table (0 where it is 0)."""
        cdf = self._cdf(migra, energy_true, offset)
        total = self._cdf_at_edges(energy_true, offset)[..., -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, cdf / np.where(total > 0, total, 1.0), 0.0)

    def get_edisp_kernel_matrix(self, offset, energy_true_edges, energy_edges):
        """Migration matrix (float array, shape (n_true, n_reco)) at a given offset.

        Parameters are floats in deg / TeV. Row ``i`` is the probability for an
        event with true energy at the (log) centre of true bin ``i`` to be
        reconstructed in each reco bin, from the pdf normalised over the
        migration table (see the module docstring): a row sums to 1 minus the
        probability of a reco energy outside ``energy_edges``.
        """
        e_true = np.sqrt(energy_true_edges[:-1] * energy_true_edges[1:])
        offset = np.full(e_true.shape, float(offset))
        migra_edges = np.asarray(energy_edges, float)[None, :] / e_true[:, None]
        cdf = self._normalized_cdf(migra_edges, e_true, offset)
        # the cdf is non-decreasing; clip only float round-off
        return np.clip(np.diff(cdf, axis=-1), 0.0, 1.0)

    def to_edisp_kernel(self, offset, energy_axis_true=None, energy_axis=None):
        """`EDispKernel` at a given offset.

        Parameters
        ----------
        offset : `~astropy.coordinates.Angle` or `~astropy.units.Quantity`
            Field-of-view offset.
        energy_axis_true : `MapAxis`, optional
            True energy axis (default: the IRF's).
        energy_axis : `MapAxis`, optional
            Reconstructed energy axis (default: the true axis renamed "energy").
        """
        from .edisp_kernel import EDispKernel

        if energy_axis_true is None:
            energy_axis_true = self.axes["energy_true"]
        if energy_axis is None:
            energy_axis = energy_axis_true.rename("energy")
        offset = _to_float(offset, u.deg, "offset")
        matrix = self.get_edisp_kernel_matrix(
            float(np.asarray(offset).ravel()[0]),
            energy_axis_true.edges.to_value("TeV"), energy_axis.edges.to_value("TeV"),
        )
        return EDispKernel(axes=[energy_axis_true, energy_axis], data=matrix)

    def normalize(self):
        """Normalize the pdf to unit integral over migration for every (energy, offset)."""
        width = np.diff(self.axes["migra"]._edges)[None, :, None]
        norm = np.sum(self.data * width, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.data = np.where(norm > 0, self.data / norm, 0.0)

    def _moments(self, energy_true, offset):
        migra = self.axes["migra"]._center
        width = np.diff(self.axes["migra"]._edges)
        p = self._pdf_at(energy_true, offset) * width
        norm = p.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (p * migra).sum(axis=-1) / norm
            var = (p * migra ** 2).sum(axis=-1) / norm - mean ** 2
        return mean, np.sqrt(np.clip(var, 0, None))

    def get_bias(self, energy_true, offset=0 * u.deg):
        """Mean relative energy bias ``<mu> - 1`` at the given true energies and offset."""
        e = _to_float(energy_true, u.TeV, "energy_true")
        o = _to_float(offset, u.deg, "offset")
        mean, _ = self._moments(e, o)
        return u.Quantity(mean - 1.0)

    def get_resolution(self, energy_true, offset=0 * u.deg):
        """Relative energy resolution (standard deviation of ``mu``)."""
        e = _to_float(energy_true, u.TeV, "energy_true")
        o = _to_float(offset, u.deg, "offset")
        _, std = self._moments(e, o)
        return u.Quantity(std)

    # ------------------------------------------------------------------ plots
    def plot_migration(self, ax=None, offset=None, energy_true=None, migra=None, **kwargs):
        """Migration pdf vs ``mu`` for a few true energies / offsets."""
        ax = _get_ax(ax)
        if offset is None:
            offset = u.Quantity([1.0], "deg")
        if energy_true is None:
            energy_true = u.Quantity([1.0, 10.0], "TeV")
        migra_axis = self.axes["migra"]
        migra = migra_axis.center if migra is None else migra
        for off in np.atleast_1d(offset):
            for e in np.atleast_1d(energy_true):
                values = self.evaluate(energy_true=e, migra=migra, offset=off)
                ax.plot(migra, values.value, label=f"offset = {off:.1f}, energy = {e:.1f}", **kwargs)
        ax.set_xlabel("Migration (E_reco / E_true)")
        ax.set_ylabel("Probability density")
        ax.legend(loc="upper left")
        return ax

    def plot_bias(self, ax=None, offset=None, add_cbar=False, **kwargs):
        """Image of the migration pdf vs true energy at one offset."""
        ax = _get_ax(ax)
        if offset is None:
            offset = self.axes["offset"].center[0]
        energy = self.axes["energy_true"]
        migra = self.axes["migra"]
        values = self.evaluate(
            energy_true=energy.center[:, None], migra=migra.center[None, :], offset=offset
        ).value
        im = ax.pcolormesh(energy.edges.value, migra.edges.value, values.T, **kwargs)
        energy.format_plot_xaxis(ax)
        ax.set_ylabel("Migration (E_reco / E_true)")
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label="Probability density")
        return ax

    def peek(self, figsize=(15, 5)):
        """Quick-look plots: bias image, migration curves, kernel matrix."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=figsize)
        self.plot_bias(ax=axes[0])
        self.plot_migration(ax=axes[1])
        offset = self.axes["offset"].center[0]
        kernel = self.to_edisp_kernel(offset=offset)
        kernel.plot_matrix(ax=axes[2])
        plt.tight_layout()
        return axes

