"""Energy dispersion kernel: the migration matrix of one spectrum.

`EDispKernel` holds ``P(reco bin j | true bin i)`` as a float64 array of
shape ``(n_true, n_reco)``; each row sums to at most one (events may migrate
outside the reconstructed-energy range).  It reads and writes the OGIP RMF
format (OGIP memo CAL/GEN/92-002: MATRIX and EBOUNDS extensions, with the
compressed F_CHAN / N_CHAN / MATRIX variable-length columns).
"""
import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from scipy.special import ndtr

from ..maps import MapAxes, MapAxis
from ..utils import make_path, write_atomic

__all__ = ["EDispKernel", "edisp_matrix_at"]

_MATRIX_HDUS = ("MATRIX", "SPECRESP MATRIX")


def _energy_edges_tev(table, lo, hi, what):
    """Contiguous bin edges in TeV from two columns (keV when the unit is missing)."""
    for name in (lo, hi):
        if name not in table.colnames:
            raise KeyError(f"{what}: column {name!r} not found (columns: {table.colnames})")
    unit = table[lo].unit or u.keV
    lo_v = u.Quantity(np.asarray(table[lo], dtype=float), unit).to_value("TeV")
    hi_v = u.Quantity(np.asarray(table[hi], dtype=float), table[hi].unit or unit).to_value("TeV")
    # float32 columns: accept the rounding of a float32 edge
    if lo_v.size > 1 and not np.allclose(lo_v[1:], hi_v[:-1], rtol=1e-5):
        raise ValueError(f"{what}: energy bins {lo}/{hi} are not contiguous")
    return np.append(lo_v, hi_v[-1])


class EDispKernel:
    """Energy dispersion matrix between true and reconstructed energy bins.

    Parameters
    ----------
    axes : list of `~gammalike.maps.MapAxis` or `~gammalike.maps.MapAxes`
        The "energy_true" and "energy" axes (in this order).
    data : array_like
        Matrix of shape ``(n_true, n_reco)``: probability for an event in a
        true-energy bin to be reconstructed in each reco-energy bin.
    meta : dict, optional
        Header keywords kept on write.

    Attributes
    ----------
    exposure : `~astropy.units.Quantity` or None
        Exposure per true-energy bin the kernel was made for (effective area
        times livetime, without containment correction), set by the makers and
        used as the weights of the kernel when datasets are stacked. Not
        written to files: kernels read back have None.
    """

    tag = "edisp_kernel"

    def __init__(self, axes, data=0, meta=None):
        axes = MapAxes(list(axes))
        if axes.names != ["energy_true", "energy"]:
            raise ValueError(
                f"EDispKernel: expected axes ['energy_true', 'energy'], got {axes.names}"
            )
        self._axes = axes
        shape = (axes["energy_true"].nbin, axes["energy"].nbin)
        data = np.asarray(u.Quantity(data).to_value(""), dtype=np.float64)
        self.data = np.broadcast_to(data, shape).copy()
        self.meta = dict(meta or {})
        self.exposure = None

    # -- structure ------------------------------------------------------------
    @property
    def axes(self):
        """`~gammalike.maps.MapAxes` ["energy_true", "energy"]."""
        return self._axes

    @property
    def energy_axis_true(self):
        return self._axes["energy_true"]

    @property
    def energy_axis(self):
        return self._axes["energy"]

    @property
    def pdf_matrix(self):
        """Migration matrix, shape ``(n_true, n_reco)`` (the data array itself)."""
        return self.data

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        value = np.asarray(value, dtype=np.float64)
        shape = (self.energy_axis_true.nbin, self.energy_axis.nbin)
        if value.shape != shape:
            raise ValueError(f"EDispKernel: data shape {value.shape} does not match axes {shape}")
        self._data = value

    def copy(self):
        new = self.__class__(axes=self._axes, data=self._data.copy(), meta=self.meta)
        new.exposure = None if self.exposure is None else self.exposure.copy()
        return new

    def __eq__(self, other):
        return (
            isinstance(other, EDispKernel)
            and self.energy_axis_true == other.energy_axis_true
            and self.energy_axis == other.energy_axis
            and np.allclose(self._data, other._data, rtol=1e-6, atol=1e-12)
        )

    # -- constructors -----------------------------------------------------------
    @classmethod
    def from_diagonal_response(cls, energy_axis_true, energy_axis=None):
        """Perfect energy reconstruction.

        Each true-energy bin is shared between the reco bins it overlaps, in
        proportion to the overlap in log energy (the identity matrix when both
        binnings are equal).

        Parameters
        ----------
        energy_axis_true : `~gammalike.maps.MapAxis`
            True energy axis.
        energy_axis : `~gammalike.maps.MapAxis`, optional
            Reco energy axis (default: the true axis renamed "energy").
        """
        if energy_axis is None:
            energy_axis = energy_axis_true.copy(name="energy")
        true = np.log(energy_axis_true.edges.to_value("TeV"))
        reco = np.log(energy_axis.edges.to_value("TeV"))
        lo = np.maximum(true[:-1, None], reco[None, :-1])
        hi = np.minimum(true[1:, None], reco[None, 1:])
        overlap = np.clip(hi - lo, 0, None)
        data = overlap / np.diff(true)[:, None]
        # exact identity where the edges coincide (no rounding from the logs)
        data[np.isclose(data, 1, rtol=1e-9)] = 1.0
        data[data < 1e-12] = 0.0
        return cls(axes=[energy_axis_true, energy_axis], data=data)

    @classmethod
    def from_gauss(cls, energy_axis_true, energy_axis, sigma, bias, pdf_threshold=1e-6):
        """Gaussian migration ``E_reco / E_true ~ N(1 + bias, sigma)``.

        The probability of each reco bin is the Gaussian integral between the
        bin edges divided by the true bin centre (closed form with the normal
        CDF); values below ``pdf_threshold`` are set to zero.

        Parameters
        ----------
        energy_axis_true, energy_axis : `~gammalike.maps.MapAxis`
            True and reco energy axes.
        sigma : float or array_like
            Relative resolution (per true-energy bin if an array).
        bias : float or array_like
            Relative bias (per true-energy bin if an array).
        pdf_threshold : float
            Smaller probabilities are set to zero.
        """
        energy_true = energy_axis_true.center.to_value("TeV")[:, None]
        edges = energy_axis.edges.to_value("TeV")[None, :]
        sigma = np.broadcast_to(np.asarray(sigma, dtype=float), energy_true.shape[:1])[:, None]
        bias = np.broadcast_to(np.asarray(bias, dtype=float), energy_true.shape[:1])[:, None]
        cdf = ndtr((edges / energy_true - 1 - bias) / sigma)
        data = np.diff(cdf, axis=1)
        data[data < pdf_threshold] = 0
        return cls(axes=[energy_axis_true, energy_axis], data=data)

    # -- evaluation ---------------------------------------------------------
    def _row_index(self, energy_true):
        energy_true = u.Quantity(energy_true, "TeV")
        idx = self.energy_axis_true.coord_to_idx(energy_true, clip=True)
        return np.asarray(idx), energy_true

    def _migra_moments(self):
        """Mean and standard deviation of ``E_reco / E_true`` per true bin."""
        e_true = self.energy_axis_true.center.to_value("TeV")
        e_reco = self.energy_axis.center.to_value("TeV")
        norm = self._data.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            migra = e_reco[None, :] / e_true[:, None]
            mean = (self._data * migra).sum(axis=1) / norm
            var = (self._data * (migra - mean[:, None]) ** 2).sum(axis=1) / norm
        return mean, np.sqrt(var)

    def get_bias(self, energy_true):
        """Relative bias ``<E_reco / E_true> - 1`` at the given true energies."""
        idx, _ = self._row_index(energy_true)
        mean, _ = self._migra_moments()
        return u.Quantity(mean[idx] - 1, "")

    def get_resolution(self, energy_true):
        """Relative resolution: standard deviation of ``E_reco / E_true``."""
        idx, _ = self._row_index(energy_true)
        _, std = self._migra_moments()
        return u.Quantity(std[idx], "")

    def get_mean(self, energy_true):
        """Mean reconstructed energy for the given true energies."""
        idx, energy_true = self._row_index(energy_true)
        mean, _ = self._migra_moments()
        return mean[idx] * self.energy_axis_true.center[idx].to("TeV")

    def get_bias_energy(self, bias, energy_min=None, energy_max=None):
        """Lowest true energy above which ``|bias|`` stays below ``bias``.

        Parameters
        ----------
        bias : float
            Maximum relative bias.
        energy_min, energy_max : `~astropy.units.Quantity`, optional
            Restrict the search to this true-energy range.
        """
        e_true = self.energy_axis_true.center.to("TeV")
        mean, _ = self._migra_moments()
        ok = np.abs(mean - 1) <= bias
        sel = np.ones(len(e_true), dtype=bool)
        if energy_min is not None:
            sel &= e_true >= u.Quantity(energy_min)
        if energy_max is not None:
            sel &= e_true <= u.Quantity(energy_max)
        # search from the high-energy end down to the first bin failing the criterion
        bad = np.nonzero(sel & ~ok & np.isfinite(mean))[0]
        candidates = np.nonzero(sel & ok)[0]
        if bad.size:
            candidates = candidates[candidates > bad.max()]
        if not candidates.size:
            return u.Quantity(np.nan, "TeV")
        return e_true[candidates.min()]

    def slice_by_idx(self, slices):
        """Sub-kernel; ``slices`` is a dict {"energy_true": slice, "energy": slice}."""
        s_true = slices.get("energy_true", slice(None))
        s_reco = slices.get("energy", slice(None))
        axes = [self.energy_axis_true.slice(s_true), self.energy_axis.slice(s_reco)]
        new = self.__class__(axes=axes, data=self._data[s_true, s_reco], meta=self.meta)
        new.exposure = None if self.exposure is None else self.exposure[s_true].copy()
        return new

    def to_image(self, lo_threshold=None, hi_threshold=None):
        """Kernel summed over reco energies in the given range (one reco bin)."""
        edges = self.energy_axis.edges
        lo = edges[0] if lo_threshold is None else u.Quantity(lo_threshold)
        hi = edges[-1] if hi_threshold is None else u.Quantity(hi_threshold)
        center = self.energy_axis.center
        sel = (center >= lo) & (center <= hi)
        data = self._data[:, sel].sum(axis=1, keepdims=True)
        axis = self.energy_axis.squash()
        return self.__class__(axes=[self.energy_axis_true, axis], data=data, meta=self.meta)

    # -- I/O ------------------------------------------------------------------
    @classmethod
    def read(cls, filename, hdu1="MATRIX", hdu2="EBOUNDS"):
        """Read an OGIP RMF file (MATRIX or SPECRESP MATRIX, and EBOUNDS)."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"EDispKernel.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            return cls.from_hdulist(hdulist, hdu1=hdu1, hdu2=hdu2, filename=path)

    @classmethod
    def from_hdulist(cls, hdulist, hdu1="MATRIX", hdu2="EBOUNDS", filename=""):
        """Create from an OGIP RMF `~astropy.io.fits.HDUList`."""
        what = f"{filename}" if filename else "RMF"
        names = [hdu.name for hdu in hdulist]
        name = hdu1 if hdu1 in names else next((n for n in _MATRIX_HDUS if n in names), None)
        if name is None:
            raise KeyError(f"{what}: no MATRIX or SPECRESP MATRIX HDU (HDUs: {names})")
        if hdu2 not in names:
            raise KeyError(f"{what}: no {hdu2} HDU (HDUs: {names})")
        matrix_hdu = hdulist[name]
        ebounds = Table.read(hdulist[hdu2])
        energy_axis = MapAxis.from_energy_edges(
            _energy_edges_tev(ebounds, "E_MIN", "E_MAX", f"{what}[{hdu2}]"), unit="TeV"
        )
        rmf = matrix_hdu.data
        header = matrix_hdu.header
        table_what = f"{what}[{name}]"
        cols = [c.upper() for c in rmf.columns.names]
        for col in ("ENERG_LO", "ENERG_HI", "N_GRP", "F_CHAN", "N_CHAN", "MATRIX"):
            if col not in cols:
                raise KeyError(f"{table_what}: column {col!r} not found (columns: {cols})")
        lo = rmf.columns["ENERG_LO"]
        unit = u.Unit(lo.unit or "keV")
        e_lo = u.Quantity(np.asarray(rmf["ENERG_LO"], float), unit).to_value("TeV")
        e_hi = u.Quantity(np.asarray(rmf["ENERG_HI"], float), unit).to_value("TeV")
        energy_axis_true = MapAxis.from_energy_edges(np.append(e_lo, e_hi[-1]) * u.TeV, name="energy_true")

        # first channel number: TLMIN of F_CHAN, else EBOUNDS' first CHANNEL, else 1 (OGIP default)
        fchan_col = cols.index("F_CHAN") + 1
        if f"TLMIN{fchan_col}" in header:
            first_channel = int(header[f"TLMIN{fchan_col}"])
        elif "CHANNEL" in ebounds.colnames and len(ebounds):
            first_channel = int(ebounds["CHANNEL"][0])
        else:
            first_channel = 1
        data = _decompress_matrix(
            rmf, len(e_lo), energy_axis.nbin, first_channel, table_what
        )
        meta = {key: header[key] for key in ("TELESCOP", "INSTRUME", "FILTER") if key in header}
        return cls(axes=[energy_axis_true, energy_axis], data=data, meta=meta)

    def to_hdulist(self, format="ogip", **kwargs):
        """OGIP RMF `~astropy.io.fits.HDUList` (PRIMARY, MATRIX, EBOUNDS)."""
        if format not in ("ogip", "ogip-sherpa"):
            raise ValueError(f"EDispKernel.to_hdulist: unknown format {format!r}, expected 'ogip'")
        return fits.HDUList([fits.PrimaryHDU(), self._matrix_hdu(), self._ebounds_hdu()])

    def _ebounds_hdu(self):
        return self.energy_axis.to_table_hdu(format="ogip")

    def _matrix_hdu(self):
        e_true = self.energy_axis_true.edges.to_value("TeV")
        n_grp, f_chan, n_chan, matrix = _compress_matrix(self._data)
        columns = [
            fits.Column("ENERG_LO", "D", unit="TeV", array=e_true[:-1]),
            fits.Column("ENERG_HI", "D", unit="TeV", array=e_true[1:]),
            fits.Column("N_GRP", "I", array=n_grp),
            fits.Column("F_CHAN", "PI()", array=f_chan),
            fits.Column("N_CHAN", "PI()", array=n_chan),
            fits.Column("MATRIX", "PD()", array=matrix),
        ]
        hdu = fits.BinTableHDU.from_columns(columns, name="MATRIX")
        header = hdu.header
        for key, value in self.meta.items():
            header[key] = value
        header["CHANTYPE"] = "PHA"
        header["HDUCLASS"] = "OGIP"
        header["HDUCLAS1"] = "RESPONSE"
        header["HDUCLAS2"] = "RSP_MATRIX"
        header["HDUCLAS3"] = "REDIST"
        header["HDUVERS"] = "1.3.0"
        header["DETCHANS"] = self.energy_axis.nbin
        header["NUMGRP"] = int(n_grp.sum())
        header["NUMELT"] = int(sum(len(m) for m in matrix))
        header["LO_THRES"] = 0.0
        # channels are numbered from 0, as in EBOUNDS
        header["TLMIN4"] = 0
        header["TLMAX4"] = self.energy_axis.nbin - 1
        return hdu

    def write(self, filename, overwrite=False, format="ogip"):
        """Write an OGIP RMF file (atomically; refuses to overwrite unless asked)."""
        hdulist = self.to_hdulist(format=format)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    def to_table(self):
        """Flat table: ENERG_LO, ENERG_HI, MATRIX rows (for inspection)."""
        e_true = self.energy_axis_true.edges
        table = Table()
        table["ENERG_LO"] = e_true[:-1]
        table["ENERG_HI"] = e_true[1:]
        table["MATRIX"] = self._data
        return table

    # -- plots ----------------------------------------------------------------
    def plot_matrix(self, ax=None, add_cbar=False, **kwargs):
        """Plot the matrix (true energy on x, reco energy on y)."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import PowerNorm

        ax = plt.gca() if ax is None else ax
        kwargs.setdefault("cmap", "GnBu")
        kwargs.setdefault("norm", PowerNorm(gamma=0.5, vmin=0, vmax=1))
        x = self.energy_axis_true.edges.to_value("TeV")
        y = self.energy_axis.edges.to_value("TeV")
        caxes = ax.pcolormesh(x, y, self._data.T, **kwargs)
        if add_cbar:
            plt.colorbar(caxes, ax=ax, label="Probability density (A.U.)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("True energy [TeV]")
        ax.set_ylabel("Energy [TeV]")
        return ax

    def plot_bias(self, ax=None, **kwargs):
        """Plot the relative bias versus true energy."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        energy = self.energy_axis_true.center
        ax.plot(energy.to_value("TeV"), self.get_bias(energy).value, **kwargs)
        ax.set_xscale("log")
        ax.set_xlabel("True energy [TeV]")
        ax.set_ylabel("(E_reco - E_true) / E_true")
        return ax

    def plot_resolution(self, ax=None, **kwargs):
        """Plot the relative resolution versus true energy."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        energy = self.energy_axis_true.center
        ax.plot(energy.to_value("TeV"), self.get_resolution(energy).value, **kwargs)
        ax.set_xscale("log")
        ax.set_xlabel("True energy [TeV]")
        ax.set_ylabel("Energy resolution")
        return ax

    def peek(self, figsize=(15, 5)):
        """Matrix, bias and resolution side by side."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=figsize)
        self.plot_matrix(ax=axes[0], add_cbar=True)
        self.plot_bias(ax=axes[1])
        self.plot_resolution(ax=axes[2])
        plt.tight_layout()
        return axes

    def __str__(self):
        e_true, e_reco = self.energy_axis_true, self.energy_axis
        return (
            f"{self.__class__.__name__}\n{'-' * len(self.__class__.__name__)}\n\n"
            f"  energy_true : {e_true.nbin} bins, {e_true.edges[0]:.3g} - {e_true.edges[-1]:.3g}\n"
            f"  energy      : {e_reco.nbin} bins, {e_reco.edges[0]:.3g} - {e_reco.edges[-1]:.3g}\n"
        )

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(n_true={self.energy_axis_true.nbin}, "
            f"n_reco={self.energy_axis.nbin})"
        )


def _as_rows(column, n_rows):
    """Per-row 1D integer/float arrays of an RMF column (variable or fixed length, or scalar)."""
    if column.dtype == object:
        return [np.atleast_1d(np.asarray(v)) for v in column]
    column = np.asarray(column)
    return list(column.reshape(n_rows, -1))


def _decompress_matrix(rmf, n_true, n_reco, first_channel, what):
    """Dense ``(n_true, n_reco)`` matrix from the OGIP compressed columns (vectorised)."""
    n_grp = np.asarray(rmf["N_GRP"], dtype=np.int64).ravel()
    f_chan_rows = _as_rows(rmf["F_CHAN"], n_true)
    n_chan_rows = _as_rows(rmf["N_CHAN"], n_true)
    matrix_rows = _as_rows(rmf["MATRIX"], n_true)
    # keep only the first N_GRP groups of each row (fixed-length columns are padded)
    f_chan = np.concatenate([r[:n] for r, n in zip(f_chan_rows, n_grp)] + [np.zeros(0)]).astype(np.int64)
    n_chan = np.concatenate([r[:n] for r, n in zip(n_chan_rows, n_grp)] + [np.zeros(0)]).astype(np.int64)
    n_elem = np.bincount(np.repeat(np.arange(n_true), n_grp), weights=n_chan, minlength=n_true).astype(int)
    values = np.concatenate([r[:n] for r, n in zip(matrix_rows, n_elem)] + [np.zeros(0)]).astype(np.float64)
    if values.size != n_chan.sum():
        raise ValueError(f"{what}: MATRIX has fewer elements than N_CHAN announces")
    group_row = np.repeat(np.arange(n_true), n_grp)
    elem_row = np.repeat(group_row, n_chan)
    starts = np.cumsum(n_chan) - n_chan
    elem_chan = np.repeat(f_chan - first_channel, n_chan) + (np.arange(n_chan.sum()) - np.repeat(starts, n_chan))
    if elem_chan.size and (elem_chan.min() < 0 or elem_chan.max() >= n_reco):
        raise ValueError(
            f"{what}: channel numbers outside 0..{n_reco - 1} after removing the first "
            f"channel {first_channel} (check TLMIN of F_CHAN)"
        )
    data = np.zeros((n_true, n_reco))
    data[elem_row, elem_chan] = values
    return data


def _compress_matrix(data):
    """OGIP compressed columns: contiguous runs of non-zero values per row."""
    nonzero = data != 0
    padded = np.zeros((data.shape[0], data.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = nonzero
    diff = np.diff(padded, axis=1)
    starts_r, starts_c = np.nonzero(diff == 1)
    _, ends_c = np.nonzero(diff == -1)
    n_grp_nz = np.bincount(starts_r, minlength=data.shape[0])
    lengths = ends_c - starts_c
    bounds = np.cumsum(n_grp_nz)
    f_chan = np.split(starts_c.astype(np.int16), bounds[:-1])
    n_chan = np.split(lengths.astype(np.int16), bounds[:-1])
    # float64 (PD) keeps the write -> read round trip exact; readers accept E and D alike
    matrix = np.split(data[nonzero].astype(np.float64), np.cumsum(nonzero.sum(axis=1))[:-1])
    # rows without any entry: one empty group, as common OGIP writers do
    empty = n_grp_nz == 0
    n_grp = np.where(empty, 1, n_grp_nz).astype(np.int16)
    for i in np.nonzero(empty)[0]:
        f_chan[i] = np.zeros(1, np.int16)
        n_chan[i] = np.zeros(1, np.int16)
    return n_grp, f_chan, n_chan, matrix


def edisp_matrix_at(edisp, position, energy_axis, energy_axis_true):
    """``(n_true, n_reco)`` migration matrix at ``position``.

    ``edisp`` is an `EDispKernelMap`, an `EDispMap`, an `EDispKernel` or None
    (perfect energy reconstruction: diagonal response between the axes).
    """
    if edisp is None:
        true_edges = energy_axis_true.edges.to_value("TeV")
        reco_edges = energy_axis.edges.to_value("TeV")
        if true_edges.size == reco_edges.size and np.allclose(true_edges, reco_edges, rtol=1e-6):
            return np.eye(true_edges.size - 1)
        return np.asarray(EDispKernel.from_diagonal_response(energy_axis_true, energy_axis).pdf_matrix,
                          dtype=np.float64)
    if hasattr(edisp, "get_edisp_kernel"):
        try:
            kernel = edisp.get_edisp_kernel(position=position, energy_axis=energy_axis)
        except TypeError:
            kernel = edisp.get_edisp_kernel(position=position)
        pdf = kernel.pdf_matrix
    else:
        pdf = edisp.pdf_matrix
    return np.asarray(getattr(pdf, "value", pdf), dtype=np.float64)
