"""Parametric PSFs: `EnergyDependentMultiGaussPSF` (GADF ``PSF_3GAUSS``) and `PSFKing` (``PSF_KING``).

Parameters are tabulated vs (true energy, offset) and interpolated (log energy,
lin offset, clamped at the table ends); the PSF formula is then evaluated in
closed form, including its containment.

Triple Gauss (GADF): ``dP/dOmega ~ sum_i A_i exp(-r^2 / 2 sigma_i^2)`` with
``A_1 = 1``. ``SCALE`` does not normalize the files in use (CTA 1DC, Prod5),
so the mixture is normalized here: component ``i`` carries the fraction
``A_i sigma_i^2 / sum_j A_j sigma_j^2`` of the events; ``SCALE <= 0`` marks
an undefined PSF (value 0).

King (GADF): ``dP/dOmega = 1 / (2 pi sigma^2) (1 - 1/gamma) (1 + r^2 / (2 gamma sigma^2))^-gamma``,
containment ``1 - (1 + r^2 / (2 gamma sigma^2))^(1 - gamma)``.
"""
import numpy as np
import astropy.units as u

from ..core import GridInterpolator, _header_meta, parse_unit
from .core import PSF, DEG2_TO_SR

__all__ = ["ParametricPSF", "EnergyDependentMultiGaussPSF", "PSFKing"]


class ParametricPSF(PSF):
    """PSF given by a formula whose parameters are tabulated vs true energy and offset.

    Parameters
    ----------
    axes : list of `MapAxis`
        ``energy_true`` and ``offset`` axes.
    data : dict or structured `~numpy.ndarray`
        Parameter arrays of shape (n_energy_true, n_offset), keyed by the
        lower-case names in ``par_names``.
    meta : dict
        Header keywords.
    """

    required_axes = ("energy_true", "offset")
    par_names = ()
    # unit of each parameter as used by the formula (sigmas in deg)
    par_units = {}

    def __init__(self, axes, data=None, unit="", meta=None, is_pointlike=False,
                 fov_alignment=None, interp_kwargs=None, par_file_units=None):
        shape = tuple(ax.nbin for ax in axes)
        self._pars = {}
        super().__init__(axes=axes, data=np.zeros(shape), unit="sr-1", meta=meta,
                         is_pointlike=is_pointlike, fov_alignment=fov_alignment,
                         interp_kwargs=interp_kwargs)
        self.par_file_units = dict(par_file_units or {})
        self.data = data

    @property
    def data(self):
        """Parameters as a structured array (fields ``par_names``)."""
        shape = self.axes.shape
        out = np.zeros(shape, dtype=[(name, "f8") for name in self.par_names])
        for name in self.par_names:
            out[name] = self._pars.get(name, 0.0)
        return out

    @data.setter
    def data(self, value):
        shape = self.axes.shape
        if value is None or (isinstance(value, np.ndarray) and value.dtype.names is None):
            self._pars = {name: np.zeros(shape) for name in self.par_names}
            self._par_interps = None
            return
        pars = {}
        for name in self.par_names:
            try:
                values = value[name]
            except (KeyError, ValueError, IndexError):
                raise KeyError(f"{type(self).__name__}: parameter {name!r} missing from data") from None
            if isinstance(values, u.Quantity):
                values = values.to_value(self.par_units.get(name, u.one))
            values = np.broadcast_to(np.asarray(values, dtype=float), shape).copy()
            pars[name] = values
        self._pars = pars
        self._par_interps = None

    @property
    def quantity(self):
        raise AttributeError(f"{type(self).__name__} has parameters, not a single quantity: use .data")

    def evaluate_parameters(self, energy_true, offset):
        """Interpolated parameters (dict of float arrays) at true energies (TeV) and offsets (deg)."""
        if self._par_interps is None:
            self._par_interps = {
                name: GridInterpolator(list(self.axes), values, fill_value=None)
                for name, values in self._pars.items()
            }
        return {name: interp([energy_true, offset]) for name, interp in self._par_interps.items()}

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_table(cls, table, format="gadf-dl3"):
        """Read from a GADF table (``ENERG``, ``THETA`` axes and one column per parameter)."""
        if format != "gadf-dl3":
            raise ValueError(f"{cls.__name__}.from_table: unsupported format {format!r}")
        column_order, axes = cls._read_axes(table)
        upper = {c.upper(): c for c in table.colnames}
        pars, file_units = {}, {}
        for name in cls.par_names:
            colname = upper.get(name.upper())
            if colname is None:
                raise KeyError(
                    f"{cls.__name__} table {table.meta.get('EXTNAME', '')!r}: missing column "
                    f"{name.upper()!r} (columns: {table.colnames})"
                )
            values = cls._cell_to_data(table[colname][0], column_order, axes)
            unit = parse_unit(table[colname].unit, default="")
            file_units[name] = unit
            target = cls.par_units.get(name)
            if target is not None and unit.is_equivalent(target):
                values = u.Quantity(values, unit).to_value(target)
            pars[name] = values
        meta = _header_meta(table.meta)
        return cls(axes=axes, data=pars, meta=meta, par_file_units=file_units,
                   is_pointlike=str(meta.get("HDUCLAS3", "")).upper() == "POINT-LIKE")

    def to_table(self, format="gadf-dl3"):
        """GADF table with one array column per parameter."""
        table = self._axes_table()
        for name in self.par_names:
            unit = self.par_units.get(name) or self.par_file_units.get(name) or u.one
            table[name.upper()] = u.Quantity(self._data_cell(self._pars[name]), unit)
        table.meta.update(self._header())
        return table

    def copy(self, **kwargs):
        init = dict(
            axes=self.axes.copy(), data={k: v.copy() for k, v in self._pars.items()},
            meta=dict(self.meta), is_pointlike=self.is_pointlike,
            par_file_units=dict(self.par_file_units),
        )
        init.update(kwargs)
        return self.__class__(**init)

    def is_allclose(self, other, rtol_axes=1e-3, atol_axes=1e-6, **kwargs):
        if not isinstance(other, self.__class__):
            return False
        for a, b in zip(self.axes, other.axes):
            if not a.is_allclose(b, rtol=rtol_axes, atol=atol_axes):
                return False
        return all(np.allclose(self._pars[n], other._pars[n], **kwargs) for n in self.par_names)

    # ------------------------------------------------------------------ evaluation
    # The parameters depend on (energy, offset) only: they are interpolated once
    # on the broadcast (energy, offset) grid and the formulas broadcast over
    # ``rad`` / ``fraction`` (a PSF map evaluates ~100 rad values per pixel).
    # Subclasses implement ``_formula_pars(energy, offset)`` (a tuple of arrays on that
    # grid), ``_value(rad, pars)``, ``_containment(rad, pars)`` and
    # ``_radius(fraction, pars)``.

    def _grid_pars(self, energy, offset):
        """Parameters on the broadcast (energy, offset) grid, axes only broadcast kept at length 1."""
        return self._formula_pars(_compact(energy), _compact(offset))

    def _apply(self, method, x, energy, offset):
        x = np.asarray(x, float)
        shape = np.broadcast_shapes(x.shape, np.shape(energy), np.shape(offset))
        value = method(x, self._grid_pars(energy, offset))
        if value.shape != shape:
            value = np.array(np.broadcast_to(value, shape))
        return value

    def _evaluate_float(self, rad, energy, offset):
        return self._apply(self._value, rad, energy, offset)

    def _containment_float(self, rad, energy, offset):
        return self._apply(self._containment, rad, energy, offset)

    def _containment_radius_float(self, fraction, energy, offset):
        return self._apply(self._radius, fraction, energy, offset)

    def _radius_bisect(self, fraction, pars, r_max):
        """Invert the containment by vectorized bisection in [0, r_max] (deg)."""
        shape = np.broadcast_shapes(fraction.shape, np.shape(r_max))
        lo = np.zeros(shape)
        hi = np.broadcast_to(r_max, shape).astype(float)
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            below = self._containment(mid, pars) < fraction
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)


def _compact(values):
    """Float array with every axis that is only broadcast (stride 0, e.g. from
    `numpy.broadcast_arrays`) reduced to length 1, so that the parameters are
    not interpolated repeatedly along it."""
    values = np.asarray(values, float)
    if values.ndim == 0 or 0 not in values.strides:
        return values
    index = tuple(slice(0, 1) if (stride == 0 and n > 1) else slice(None)
                  for stride, n in zip(values.strides, values.shape))
    return values[index]


class EnergyDependentMultiGaussPSF(ParametricPSF):
    """Triple-Gaussian PSF (GADF ``PSF_3GAUSS``), see the module docstring for the formula."""

    tag = "psf_3gauss"
    _hduclas4 = "PSF_3GAUSS"
    par_names = ("scale", "sigma_1", "ampl_2", "sigma_2", "ampl_3", "sigma_3")
    par_units = {"sigma_1": u.deg, "sigma_2": u.deg, "sigma_3": u.deg}

    def _formula_pars(self, energy, offset):
        """Per-component (weight fractions, sigmas in deg) and validity at the given energies / offsets."""
        p = self.evaluate_parameters(*np.broadcast_arrays(energy, offset))
        sigmas = [np.clip(p["sigma_1"], 0, None), np.clip(p["sigma_2"], 0, None), np.clip(p["sigma_3"], 0, None)]
        ampls = [np.ones_like(sigmas[0]), np.clip(p["ampl_2"], 0, None), np.clip(p["ampl_3"], 0, None)]
        weights = [a * s ** 2 for a, s in zip(ampls, sigmas)]
        total = weights[0] + weights[1] + weights[2]
        valid = (p["scale"] > 0) & (total > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            fractions = [np.where(valid, w / total, 0.0) for w in weights]
        return fractions, sigmas, valid

    @staticmethod
    def _value(rad, pars):
        fractions, sigmas, _ = pars
        value = 0.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for f, s in zip(fractions, sigmas):
                term = f * np.exp(-0.5 * rad ** 2 / s ** 2) / (2 * np.pi * s ** 2 * DEG2_TO_SR)
                value = value + np.where(s > 0, term, 0.0)
        return value

    @staticmethod
    def _containment(rad, pars):
        fractions, sigmas, _ = pars
        value = 0.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for f, s in zip(fractions, sigmas):
                value = value + np.where(s > 0, f * -np.expm1(-0.5 * rad ** 2 / s ** 2), 0.0)
        return value

    def _radius(self, fraction, pars):
        _, sigmas, valid = pars
        r_max = 10 * np.maximum(np.maximum(sigmas[0], sigmas[1]), sigmas[2])
        radius = self._radius_bisect(fraction, pars, r_max)
        ok = valid & (fraction < 1) & (fraction >= 0)
        return np.where(ok, radius, np.nan)


class PSFKing(ParametricPSF):
    """King-function PSF (GADF ``PSF_KING``), see the module docstring for the formula."""

    tag = "psf_king"
    _hduclas4 = "PSF_KING"
    par_names = ("gamma", "sigma")
    par_units = {"sigma": u.deg}

    def _formula_pars(self, energy, offset):
        p = self.evaluate_parameters(*np.broadcast_arrays(energy, offset))
        gamma, sigma = p["gamma"], p["sigma"]
        valid = (gamma > 1) & (sigma > 0)
        return np.where(valid, gamma, 2.0), np.where(valid, sigma, 1.0), valid

    @staticmethod
    def _value(rad, pars):
        gamma, sigma, valid = pars
        s2 = sigma ** 2
        value = (1 - 1 / gamma) * (1 + rad ** 2 / (2 * gamma * s2)) ** -gamma / (2 * np.pi * s2 * DEG2_TO_SR)
        return np.where(valid, value, 0.0)

    @staticmethod
    def _containment(rad, pars):
        gamma, sigma, valid = pars
        value = 1 - (1 + rad ** 2 / (2 * gamma * sigma ** 2)) ** (1 - gamma)
        return np.where(valid, value, 0.0)

    @staticmethod
    def _radius(fraction, pars):
        gamma, sigma, valid = pars
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = 2 * gamma * sigma ** 2 * ((1 - fraction) ** (1 / (1 - gamma)) - 1)
        ok = valid & (fraction < 1) & (fraction >= 0)
        return np.where(ok, np.sqrt(np.clip(r2, 0, None)), np.nan)
