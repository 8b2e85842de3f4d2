"""SED types of the GADF "SED" (flux points) format and conversions between them.

The GADF format (gamma-astro-data-formats, "SED") knows four physical
representations of a flux measurement and a relative one:

========== ============================================ =====================
sed type   quantity                                     internal unit
========== ============================================ =====================
dnde       differential flux at ``e_ref``               cm-2 s-1 TeV-1
e2dnde     ``e_ref**2 * dnde``                          TeV cm-2 s-1
flux       integral of dnde from ``e_min`` to ``e_max`` cm-2 s-1
eflux      integral of E dnde from ``e_min`` to ``e_max`` TeV cm-2 s-1
likelihood ``norm``: value in units of a reference model (dimensionless)
========== ============================================ =====================

Every representation is ``norm * ref_<type>``, where ``ref_<type>`` is the
same quantity computed from a *reference spectral model*; conversions go
through the norm.  The reference model only matters when converting between
a differential (dnde, e2dnde) and an integral (flux, eflux) representation:
dnde <-> e2dnde is exact whatever the model.  When a table gives no reference
(no ``ref_*`` columns), the reference is a power law of index 2
(amplitude 1e-12 cm-2 s-1 TeV-1 at 1 TeV), as in gammapy.

Everything here is a pure function on float arrays in the internal units.
"""
import numpy as np
from astropy import units as u
from scipy.special import erf
from scipy.stats import norm as _normal

__all__ = [
    "SED_TYPES",
    "SED_UNITS",
    "REQUIRED_COLUMNS",
    "NORM_QUANTITIES",
    "column_name",
    "norm_quantity_name",
    "guess_sed_type",
    "powerlaw_reference_values",
    "model_reference_values",
    "ul_conf_from_n_sigma",
    "n_sigma_from_ul_conf",
    "log_center",
    "ReferenceFluxesMixin",
]

#: The GADF sed types, "likelihood" meaning values stored as norms.
SED_TYPES = ("dnde", "e2dnde", "flux", "eflux", "likelihood")

#: Internal (float) unit of each representation.
SED_UNITS = {
    "dnde": u.Unit("cm-2 s-1 TeV-1"),
    "e2dnde": u.Unit("TeV cm-2 s-1"),
    "flux": u.Unit("cm-2 s-1"),
    "eflux": u.Unit("TeV cm-2 s-1"),
    "likelihood": u.dimensionless_unscaled,
}

#: Columns a table must have for each sed type (GADF "SED Types").
REQUIRED_COLUMNS = {
    "dnde": ("e_ref", "dnde"),
    "e2dnde": ("e_ref", "e2dnde"),
    "flux": ("e_min", "e_max", "flux"),
    "eflux": ("e_min", "e_max", "eflux"),
    "likelihood": ("e_min", "e_max", "e_ref", "ref_dnde", "norm"),
}

#: Norm-like quantities: they scale with the reference model.
NORM_QUANTITIES = (
    "norm", "norm_err", "norm_errn", "norm_errp", "norm_ul", "norm_sensitivity", "norm_scan",
)

#: Default reference model: dN/dE = 1e-12 cm-2 s-1 TeV-1 (E / 1 TeV)^-2.
DEFAULT_REFERENCE = {"index": 2.0, "amplitude": 1e-12, "reference": 1.0}


def column_name(quantity, sed_type):
    """Table column of a norm quantity in a representation.

    ``column_name("norm_errn", "dnde") == "dnde_errn"``; for "likelihood"
    the norm names are the column names.
    """
    if sed_type == "likelihood":
        return quantity
    return sed_type + quantity[len("norm"):]


def norm_quantity_name(column, sed_type):
    """Inverse of `column_name`: "dnde_ul" -> "norm_ul" (None if not a norm column)."""
    prefix = "norm" if sed_type == "likelihood" else sed_type
    if column == prefix or column.startswith(prefix + "_"):
        name = "norm" + column[len(prefix):]
        if name in NORM_QUANTITIES:
            return name
    return None


def guess_sed_type(colnames):
    """Sed type implied by the columns present when no SED_TYPE keyword is given.

    Parameters
    ----------
    colnames : list of str
        Column names of the table.

    Returns
    -------
    sed_type : str or None
        None when no known representation column exists.
    """
    names = set(colnames)
    if "norm" in names and "ref_dnde" in names:
        return "likelihood"
    for sed_type in ("dnde", "e2dnde", "flux", "eflux"):
        if sed_type in names:
            return sed_type
    return None


def log_center(e_min, e_max):
    """Geometric bin centres ``sqrt(e_min * e_max)``."""
    return np.sqrt(np.asarray(e_min, dtype=float) * np.asarray(e_max, dtype=float))


def powerlaw_reference_values(e_ref, e_min=None, e_max=None, index=2.0, amplitude=1e-12,
                              reference=1.0):
    """Reference values of a power law, in closed form.

    Parameters
    ----------
    e_ref, e_min, e_max : array_like
        Energies in TeV (``e_min``/``e_max`` may be None: flux/eflux are NaN).
    index, amplitude, reference : float
        Power law ``amplitude * (E / reference)^-index``, amplitude in
        cm-2 s-1 TeV-1, reference in TeV.

    Returns
    -------
    ref : dict of `~numpy.ndarray`
        "dnde", "e2dnde", "flux", "eflux" and "likelihood" (ones), internal units.
    """
    e_ref = np.asarray(e_ref, dtype=float)
    dnde = amplitude * (e_ref / reference) ** (-index)
    if e_min is None or e_max is None:
        flux = eflux = np.full(e_ref.shape, np.nan)
    else:
        e_min = np.asarray(e_min, dtype=float)
        e_max = np.asarray(e_max, dtype=float)
        flux = _powerlaw_moment(e_min, e_max, index, amplitude, reference, 0)
        eflux = _powerlaw_moment(e_min, e_max, index, amplitude, reference, 1)
    return _complete(e_ref, dnde, flux, eflux)


def _powerlaw_moment(e_min, e_max, index, amplitude, reference, power):
    """Integral of ``E^power * amplitude (E/reference)^-index`` from e_min to e_max."""
    k = power + 1.0 - index
    scale = amplitude * reference ** index
    if np.isclose(k, 0.0, atol=1e-12):
        return scale * np.log(e_max / e_min)
    return scale * (e_max ** k - e_min ** k) / k


def _complete(e_ref, dnde, flux, eflux):
    return {
        "dnde": dnde,
        "e2dnde": dnde * e_ref ** 2,
        "flux": flux,
        "eflux": eflux,
        "likelihood": np.ones_like(dnde),
    }


def model_reference_values(model, e_ref, e_min=None, e_max=None):
    """Reference values of any spectral model.

    Uses the float API of the models (``dnde_float``, ``integral_float``,
    ``energy_flux_float``: energies in TeV, results in internal units) when
    the model has it, else the Quantity API (``model(energy)``,
    ``model.integral``, ``model.energy_flux``).

    Parameters
    ----------
    model : `~gammalike.modeling.models.SpectralModel`
        Reference spectral model.
    e_ref, e_min, e_max : array_like
        Energies in TeV (``e_min``/``e_max`` may be None: flux/eflux are NaN).

    Returns
    -------
    ref : dict of `~numpy.ndarray`
        As `powerlaw_reference_values`.
    """
    e_ref = np.asarray(e_ref, dtype=float)
    if hasattr(model, "dnde_float"):
        dnde = np.asarray(model.dnde_float(e_ref), dtype=float)
    else:
        dnde = u.Quantity(model(e_ref * u.TeV)).to_value(SED_UNITS["dnde"])
    if e_min is None or e_max is None:
        flux = eflux = np.full(e_ref.shape, np.nan)
    else:
        e_min = np.asarray(e_min, dtype=float)
        e_max = np.asarray(e_max, dtype=float)
        if hasattr(model, "integral_float") and hasattr(model, "energy_flux_float"):
            flux = np.asarray(model.integral_float(e_min, e_max), dtype=float)
            eflux = np.asarray(model.energy_flux_float(e_min, e_max), dtype=float)
        else:
            emin_q, emax_q = e_min * u.TeV, e_max * u.TeV
            flux = u.Quantity(model.integral(emin_q, emax_q)).to_value(SED_UNITS["flux"])
            eflux = u.Quantity(model.energy_flux(emin_q, emax_q)).to_value(SED_UNITS["eflux"])
    return _complete(e_ref, dnde * np.ones_like(e_ref), flux, eflux)


def ul_conf_from_n_sigma(n_sigma_ul):
    """Confidence level (GADF ``UL_CONF``) of an upper limit at ``n_sigma_ul``.

    Gaussian two-sided convention: 2 sigma <-> 0.9545, 3 sigma <-> 0.9973.
    """
    return float(erf(n_sigma_ul / np.sqrt(2.0)))


def n_sigma_from_ul_conf(ul_conf):
    """Inverse of `ul_conf_from_n_sigma`."""
    return float(_normal.isf((1.0 - float(ul_conf)) / 2.0))


class ReferenceFluxesMixin:
    """Reference-model fluxes per energy bin of a flux container (``self._ref``: sed type -> floats)."""

    def _ref_quantity(self, sed_type):
        return u.Quantity(self._ref[sed_type], SED_UNITS[sed_type])

    @property
    def dnde_ref(self):
        """Reference model dnde at the reference energy of each bin."""
        return self._ref_quantity("dnde")

    @property
    def e2dnde_ref(self):
        """Reference model e2dnde at the reference energy of each bin."""
        return self._ref_quantity("e2dnde")

    @property
    def flux_ref(self):
        """Reference model integral flux in each bin."""
        return self._ref_quantity("flux")

    @property
    def eflux_ref(self):
        """Reference model energy flux in each bin."""
        return self._ref_quantity("eflux")
