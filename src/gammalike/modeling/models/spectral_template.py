"""Tabulated spectra: log-log interpolation with exact piecewise power-law integrals."""
import numpy as np
from astropy import units as u

from .spectral_core import DNDE_UNIT, SpectralModel, integrate_log
from .spectral import power_law_integral

__all__ = ["TemplateSpectralModel", "loglog_interp", "loglog_integral"]

_TINY = 1e-300


def _segments(energy_nodes, values):
    """Log-space nodes and slopes of the piecewise power law through the nodes."""
    log_e = np.log(energy_nodes)
    log_v = np.log(np.clip(values, _TINY, None))
    slopes = np.diff(log_v) / np.diff(log_e)
    return log_e, log_v, slopes


def _segment_index(log_e_nodes, log_energy):
    # segment k covers [node k, node k+1]; the end segments extrapolate
    idx = np.searchsorted(log_e_nodes, log_energy, side="right") - 1
    return np.clip(idx, 0, len(log_e_nodes) - 2)


def loglog_interp(energy, energy_nodes, values):
    """Piecewise power law through ``(energy_nodes, values)``, extrapolated with the end slopes.

    All arguments are float arrays (energy in the nodes' unit).
    """
    energy_nodes = np.asarray(energy_nodes, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(energy_nodes) == 1:
        return np.full(np.shape(energy), values[0])
    log_e, log_v, slopes = _segments(energy_nodes, values)
    log_energy = np.log(energy)
    k = _segment_index(log_e, log_energy)
    return np.exp(log_v[k] + slopes[k] * (log_energy - log_e[k]))


def loglog_integral(energy_min, energy_max, energy_nodes, values, power=0):
    """Exact integral of ``loglog_interp(E) * E**power`` between the bounds.

    Each segment is a power law integrated in closed form: partial first and
    last segments plus the whole segments in between.
    """
    energy_nodes = np.asarray(energy_nodes, dtype=float)
    values = np.asarray(values, dtype=float) * energy_nodes ** power
    lo, hi = np.broadcast_arrays(np.asarray(energy_min, dtype=float),
                                 np.asarray(energy_max, dtype=float))
    # reversed bounds: the integral changes sign
    sign = np.where(hi < lo, -1.0, 1.0)
    emin, emax = np.minimum(lo, hi), np.maximum(lo, hi)
    if len(energy_nodes) == 1:
        # constant template: integral of v0 (E / E0)^power
        return sign * values[0] * power_law_integral(emin, emax, -power, energy_nodes[0])
    log_e, log_v, slopes = _segments(energy_nodes, values)
    v_nodes = np.exp(log_v)
    # whole-segment integrals and their prefix sums
    seg = v_nodes[:-1] * power_law_integral(energy_nodes[:-1], energy_nodes[1:], -slopes,
                                            energy_nodes[:-1])
    prefix = np.concatenate([[0.0], np.cumsum(seg)])
    ka = _segment_index(log_e, np.log(emin))
    kb = _segment_index(log_e, np.log(emax))
    same = ka == kb
    with np.errstate(over="ignore", invalid="ignore"):
        direct = v_nodes[ka] * power_law_integral(emin, emax, -slopes[ka], energy_nodes[ka])
        first = v_nodes[ka] * power_law_integral(emin, energy_nodes[ka + 1], -slopes[ka],
                                                 energy_nodes[ka])
        last = v_nodes[kb] * power_law_integral(energy_nodes[kb], emax, -slopes[kb],
                                                energy_nodes[kb])
        middle = prefix[kb] - prefix[np.minimum(ka + 1, kb)]
        split = first + middle + last
    return sign * np.where(same, direct, split)


class TemplateSpectralModel(SpectralModel):
    """Spectrum tabulated at energy nodes, interpolated log-log.

    Parameters
    ----------
    energy : `~astropy.units.Quantity`
        Node energies (increasing).
    values : `~astropy.units.Quantity` or array
        dN/dE at the nodes (cm-2 s-1 TeV-1 or convertible; dimensionless
        values make a norm-like model).
    interp_kwargs : dict, optional
        ``{"values_scale": "log"}`` (default, log-log interpolation) or
        ``"lin"`` (values linear in ln E).  Outside the nodes the end
        segments are extrapolated.
    meta : dict, optional
        Free-form metadata.
    """

    tag = ["TemplateSpectralModel", "template"]

    def __init__(self, energy, values, interp_kwargs=None, meta=None, filename=None):
        energy = u.Quantity(energy)
        if energy.ndim != 1 or len(energy) < 1:
            raise ValueError("TemplateSpectralModel: energy must be a 1D array with at least one node")
        values = u.Quantity(values)
        if values.shape != energy.shape:
            raise ValueError(
                f"TemplateSpectralModel: values shape {values.shape} does not match energy shape {energy.shape}"
            )
        order = np.argsort(energy.value)
        self._energy = energy[order]
        self._energy_tev = self._energy.to_value("TeV")
        if values.unit.is_equivalent(DNDE_UNIT):
            self._values_float = values[order].to_value(DNDE_UNIT)
            self._dnde_unit = DNDE_UNIT
        else:
            self._values_float = values[order].value.astype(float)
            self._dnde_unit = values.unit
            if values.unit.physical_type == "dimensionless":
                self.is_norm_spectral_model = True
        self._values = values[order]
        if len(self._energy_tev) > 1:
            # products with other models integrate across the nodes' kinks
            self._quad_width = min(0.7, float(np.min(np.diff(np.log(self._energy_tev)))))
        self.interp_kwargs = dict(interp_kwargs or {})
        scale = self.interp_kwargs.get("values_scale", "log")
        if scale not in ("log", "lin"):
            raise ValueError(f"TemplateSpectralModel: values_scale must be 'log' or 'lin', got {scale!r}")
        self._log = scale == "log"
        self.meta = dict(meta or {})
        self.filename = filename
        self._covariance = None

    @property
    def energy(self):
        """Node energies."""
        return self._energy

    @property
    def values(self):
        """Values at the nodes."""
        return self._values

    def dnde_float(self, energy):
        energy = np.asarray(energy, dtype=float)
        if self._log:
            return loglog_interp(energy, self._energy_tev, self._values_float)
        return np.interp(np.log(energy), np.log(self._energy_tev), self._values_float)

    def integral_float(self, energy_min, energy_max):
        if self._log:
            return loglog_integral(energy_min, energy_max, self._energy_tev, self._values_float)
        return integrate_log(self.dnde_float, energy_min, energy_max)

    def energy_flux_float(self, energy_min, energy_max):
        if self._log:
            return loglog_integral(energy_min, energy_max, self._energy_tev, self._values_float,
                                   power=1)
        return integrate_log(self.dnde_float, energy_min, energy_max, power=1)

    @classmethod
    def read_xspec_model(cls, filename, param, **kwargs):
        """Read one spectrum of an XSPEC table model (energies in keV) at parameter ``param``."""
        from astropy.table import Table
        from ...utils.paths import make_path

        path = make_path(filename)
        energies = Table.read(path, hdu="ENERGIES")
        spectra = Table.read(path, hdu="SPECTRA")
        emin = np.asarray(energies["ENERG_LO"], dtype=float)
        emax = np.asarray(energies["ENERG_HI"], dtype=float)
        energy = u.Quantity(np.sqrt(emin * emax), "keV")
        params = np.asarray(spectra["PARAMVAL"], dtype=float).reshape(len(spectra), -1)[:, 0]
        table = np.asarray(spectra["INTPSPEC"], dtype=float)
        idx = int(np.argmin(np.abs(params - param)))
        return cls(energy=energy, values=table[idx] * u.Unit(""), **kwargs)

    def to_dict(self, full_output=False):
        data = {
            "type": self.type_name,
            "energy": {"data": self._energy.value.tolist(), "unit": self._energy.unit.to_string("fits")},
            "values": {"data": self._values.value.tolist(), "unit": self._values.unit.to_string("fits")},
        }
        if self.interp_kwargs:
            data["interp_kwargs"] = dict(self.interp_kwargs)
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        for key in ("energy", "values"):
            if key not in data:
                raise KeyError(f"TemplateSpectralModel YAML: missing key {key!r}")
        energy = u.Quantity(data["energy"]["data"], data["energy"].get("unit", "TeV"))
        values = u.Quantity(data["values"]["data"], data["values"].get("unit", ""))
        return cls(energy=energy, values=values, interp_kwargs=data.get("interp_kwargs"))

    def __str__(self):
        return (f"{self.__class__.__name__}\n\n  energy : {len(self._energy)} nodes from "
                f"{self._energy[0]:.3g} to {self._energy[-1]:.3g}\n  values unit : {self._values.unit}")

    def __repr__(self):
        return f"TemplateSpectralModel(n_nodes={len(self._energy)}, unit={self._values.unit})"
