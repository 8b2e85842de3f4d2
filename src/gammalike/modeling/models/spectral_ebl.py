"""Extragalactic background light (EBL) absorption."""
import numpy as np
from astropy import units as u
from astropy.table import Table
from scipy.interpolate import CubicSpline

from ...utils.paths import make_path
from ..parameter import Parameter
from .spectral_core import integrate_log
from .spectral_norm import _NormSpectralModel

__all__ = ["EBLAbsorptionNormSpectralModel", "EBL_DATA_BUILTIN"]

#: Built-in EBL tables (XSPEC table models in ``$GAMMALIKE_DATA/ebl``).
EBL_DATA_BUILTIN = {
    "franceschini": "$GAMMALIKE_DATA/ebl/ebl_franceschini.fits.gz",
    "dominguez": "$GAMMALIKE_DATA/ebl/ebl_dominguez11.fits.gz",
    "finke": "$GAMMALIKE_DATA/ebl/frd_abs.fits.gz",
    "franceschini17": "$GAMMALIKE_DATA/ebl/ebl_franceschini_2017.fits.gz",
    "saldana-lopez": "$GAMMALIKE_DATA/ebl/ebl_saldana-lopez_2021.fits.gz",
}

_TAU_MAX = 700.0  # exp(-700) ~ 1e-304: tables hold exact zeros at the highest energies


class EBLAbsorptionNormSpectralModel(_NormSpectralModel):
    r"""EBL absorption factor ``exp(-alpha_norm * tau(E, redshift))``.

    ``tau`` is the optical depth of a tabulated model, interpolated linearly
    in redshift and with a cubic spline in ln(E) (with ``tau = 0`` added at ``z = 0`` when the
    table starts above it).  Outside the tabulated energies the edge values
    are used; redshifts above the table are clipped to its last row.

    Parameters
    ----------
    energy : `~astropy.units.Quantity`
        Energy nodes.
    param : array-like
        Redshift nodes.
    data : array-like
        Absorption factors ``exp(-tau)``, shape ``(len(param), len(energy))``.
    redshift : float
        Source redshift (frozen parameter).
    alpha_norm : float
        Scale of the optical depth (frozen parameter).
    """

    tag = ["EBLAbsorptionNormSpectralModel", "ebl-norm"]
    alpha_norm = Parameter("alpha_norm", 1.0, frozen=True)
    redshift = Parameter("redshift", 0.1, frozen=True)
    # The tables have structure on scales of ~0.02 in ln(E): integrate finely
    # (relative accuracy ~1e-8 on absorbed power laws).
    _quad_width = 0.05

    def __init__(self, energy, param, data, redshift=0.1, alpha_norm=1.0, filename=None):
        energy = u.Quantity(energy)
        param = np.asarray(param, dtype=float).ravel()
        data = np.asarray(data, dtype=float)
        if data.shape != (len(param), len(energy)):
            raise ValueError(
                f"EBLAbsorptionNormSpectralModel: data shape {data.shape}, expected "
                f"(n_redshift, n_energy) = {(len(param), len(energy))}"
            )
        order = np.argsort(energy.value)
        self._energy = energy[order]
        self._param = param
        self._data = data[:, order]
        self._log_energy = np.log(self._energy.to_value("TeV"))
        with np.errstate(divide="ignore"):
            tau = -np.log(np.clip(self._data, 0, 1))
        tau = np.clip(tau, 0, _TAU_MAX)
        z = param
        if z[0] > 0:
            z = np.concatenate([[0.0], z])
            tau = np.vstack([np.zeros(tau.shape[1]), tau])
        self._z_nodes = z
        self._tau = tau
        self._tau_cache = (None, None)
        self.filename = filename
        super().__init__(redshift=redshift, alpha_norm=alpha_norm)

    @property
    def energy(self):
        return self._energy

    @property
    def param(self):
        return self._param

    @property
    def data(self):
        return self._data

    def tau_float(self, energy, redshift):
        """Optical depth at ``energy`` (TeV floats) and ``redshift``."""
        cached_z, tau_z = self._tau_cache
        if cached_z != redshift:
            z = self._z_nodes
            zc = min(max(float(redshift), z[0]), z[-1])
            idx = int(np.clip(np.searchsorted(z, zc, side="right") - 1, 0, len(z) - 2))
            w = (zc - z[idx]) / (z[idx + 1] - z[idx])
            tau_z = (1 - w) * self._tau[idx] + w * self._tau[idx + 1]
            # A cubic spline in ln(E) (rather than linear segments) keeps the
            # absorption smooth, so that the Gauss-Legendre integrals of
            # absorbed spectra converge (kinks at every table node would limit
            # them to ~1e-4).
            tau_z = CubicSpline(self._log_energy, tau_z, extrapolate=False)
            self._tau_cache = (redshift, tau_z)
        log_e = np.clip(np.log(energy), self._log_energy[0], self._log_energy[-1])
        return np.clip(tau_z(log_e), 0, _TAU_MAX)

    def evaluate(self, energy, alpha_norm, redshift):
        """Absorption factor at ``energy`` (TeV floats)."""
        return np.exp(-alpha_norm * self.tau_float(np.asarray(energy, dtype=float), redshift))

    def dnde_float(self, energy):
        return self.evaluate(energy, *self.parameter_values())

    def integral_float(self, energy_min, energy_max):
        return integrate_log(self.dnde_float, energy_min, energy_max, max_width=self._quad_width)

    def energy_flux_float(self, energy_min, energy_max):
        return integrate_log(self.dnde_float, energy_min, energy_max, power=1,
                             max_width=self._quad_width)

    @classmethod
    def read(cls, filename, redshift=0.1, alpha_norm=1.0):
        """Read an XSPEC table model (HDUs ENERGIES, SPECTRA; energies in keV).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            FITS file (``$GAMMALIKE_DATA`` is expanded).
        redshift, alpha_norm : float
            Parameter values.
        """
        path = make_path(filename)
        try:
            energies = Table.read(path, hdu="ENERGIES")
            spectra = Table.read(path, hdu="SPECTRA")
        except (KeyError, OSError) as exc:
            raise OSError(
                f"{path}: expected an XSPEC table model with HDUs ENERGIES and SPECTRA ({exc})"
            ) from exc
        for table, hdu, cols in ((energies, "ENERGIES", ("ENERG_LO", "ENERG_HI")),
                                 (spectra, "SPECTRA", ("PARAMVAL", "INTPSPEC"))):
            for col in cols:
                if col not in table.colnames:
                    raise KeyError(f"{path}: HDU {hdu} has no column {col!r}")
        # XSPEC table models give energies in keV; absorption at the bin centre
        emin = np.asarray(energies["ENERG_LO"], dtype=float)
        emax = np.asarray(energies["ENERG_HI"], dtype=float)
        energy = u.Quantity(np.sqrt(emin * emax), "keV")
        param = np.asarray(spectra["PARAMVAL"], dtype=float).reshape(len(spectra), -1)[:, 0]
        data = np.asarray(spectra["INTPSPEC"], dtype=float)
        return cls(energy=energy, param=param, data=data, redshift=redshift,
                   alpha_norm=alpha_norm, filename=str(filename))

    @classmethod
    def read_builtin(cls, reference="dominguez", redshift=0.1, alpha_norm=1.0):
        """Read a built-in table: "dominguez", "franceschini", "franceschini17",
        "saldana-lopez" or "finke" (files in ``$GAMMALIKE_DATA/ebl``)."""
        if reference not in EBL_DATA_BUILTIN:
            raise KeyError(
                f"Unknown EBL model {reference!r}; built-in models: {', '.join(EBL_DATA_BUILTIN)}"
            )
        return cls.read(EBL_DATA_BUILTIN[reference], redshift=redshift, alpha_norm=alpha_norm)

    def to_dict(self, full_output=False):
        data = super().to_dict(full_output)
        if self.filename is not None:
            data["filename"] = self.filename
        else:
            data["energy"] = {"data": self._energy.value.tolist(),
                              "unit": self._energy.unit.to_string("fits")}
            data["param"] = {"data": self._param.tolist()}
            data["values"] = {"data": self._data.tolist()}
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "filename" in data:
            model = cls.read(data["filename"])
        elif all(key in data for key in ("energy", "param", "values")):
            model = cls(
                energy=u.Quantity(data["energy"]["data"], data["energy"].get("unit", "TeV")),
                param=data["param"]["data"],
                data=data["values"]["data"],
            )
        else:
            raise KeyError(
                "EBLAbsorptionNormSpectralModel YAML: needs 'filename' or 'energy', 'param' and 'values'"
            )
        model._update_parameters_from_dict(data.get("parameters", []))
        return model
