"""CTA-like IRFs that gammalike builds itself from a few smooth formulas.

The formulas and their parameters were chosen by eye and least squares to
follow the CTA Prod5 "20deg-AverageAz" 50 h responses (South: 14 MSTs + 37
SSTs, North: 4 LSTs + 9 MSTs) within a few tens of percent; they are meant
for simulations, demos and tests, not for science. With ``E`` the true
energy in TeV and ``theta`` the field-of-view offset in deg:

* effective area ``A(E, theta) = A_max x^s / (1 + x^s) exp(-(E_th / E)^k)
  exp(-(theta / theta_A)^p_A)`` with ``x = E / E_0``;
* PSF: one Gaussian of width ``sigma(E, theta) = r_68(E) / 1.5096 (1 + c theta^2)``,
  ``r_68(E) = sqrt((a E^-b)^2 + r_min^2)`` (1.5096 = radius of 68 %
  containment of a 2D Gaussian in units of sigma);
* energy dispersion: Gaussian in ``migra = E_reco / E_true`` of mean ``1 + bias(E)`` and
  width ``res(E, theta) = sqrt(res_0^2 + (res_1 E^-g)^2) (1 + c theta^2)``,
  ``bias(E) = bias_0 + (E_b / E)^2`` (the positive bias near threshold);
* background rate ``R(E, theta) = R_0 E^-Gamma exp(-(E_th,bkg / E)^k_bkg)
  exp(-(theta / theta_B)^p_B)`` in s-1 MeV-1 sr-1 (E the reconstructed energy).

`make_irfs` returns the same dict as `load_irf_dict_from_file` ("aeff",
"psf", "edisp", "bkg"); `load_cta_irfs` prefers the Prod5 files of the data
folder (``cta-caldb/Prod5-*.fits.gz``) and falls back on `make_irfs`.
"""
import logging

import numpy as np
import astropy.units as u
from astropy.io import fits
from scipy.special import ndtr

from gammalike.maps import MapAxis
from gammalike.utils.io import write_atomic
from gammalike.utils.paths import data_folder, make_path

from .background import Background2D, Background3D
from .edisp import EnergyDispersion2D
from .effective_area import EffectiveAreaTable2D
from .io import load_irf_dict_from_file
from .psf import PSF3D, EnergyDependentMultiGaussPSF
from .psf.core import DEG2_TO_SR

__all__ = [
    "CTA_PARAMETRISATIONS",
    "make_irfs",
    "make_effective_area",
    "make_psf",
    "make_edisp",
    "make_background",
    "load_cta_irfs",
    "find_cta_irf_file",
    "write_irf_dict",
]

log = logging.getLogger(__name__)

#: Radius of 68 % containment of a 2D Gaussian in units of its sigma: sqrt(-2 ln 0.32)
_R68_OVER_SIGMA = float(np.sqrt(-2 * np.log(1 - 0.68)))

#: Parameters of the formulas in the module docstring (energies in TeV, angles in deg,
#: area in m2, background rate in s-1 MeV-1 sr-1). Fitted to Prod5 at 0.5 deg offset.
CTA_PARAMETRISATIONS = {
    "south": dict(
        instrument="South (gammalike parametrisation of Prod5 14MSTs37SSTs)",
        aeff_max=3.52e6, aeff_e0=5.89, aeff_s=0.742, aeff_eth=0.0549, aeff_k=2.43,
        aeff_theta=3.9, aeff_p=3.4,
        psf_a=0.0543, psf_b=0.413, psf_rmin=0.0229, psf_offset=0.02,
        res_0=0.081, res_1=0.027, res_g=0.67, res_offset=0.02,
        bias_0=-0.015, bias_eb=0.022,
        bkg_r0=1.2e-4, bkg_index=2.7, bkg_eth=0.06, bkg_k=2.4, bkg_theta=4.4, bkg_p=3.5,
    ),
    "north": dict(
        instrument="North (gammalike parametrisation of Prod5 4LSTs09MSTs)",
        aeff_max=9.25e5, aeff_e0=1.03, aeff_s=0.869, aeff_eth=0.0318, aeff_k=2.46,
        aeff_theta=3.5, aeff_p=3.0,
        psf_a=0.0607, psf_b=0.346, psf_rmin=0.0223, psf_offset=0.03,
        res_0=0.105, res_1=0.031, res_g=0.56, res_offset=0.03,
        bias_0=-0.015, bias_eb=0.01,
        bkg_r0=6.8e-5, bkg_index=2.7, bkg_eth=0.03, bkg_k=2.4, bkg_theta=3.8, bkg_p=3.2,
    ),
}

_PROD5_PATTERNS = {
    "south": "Prod5-South-*.fits*",
    "north": "Prod5-North-*.fits*",
}


def _pars(site):
    key = str(site).strip().lower()
    if key not in CTA_PARAMETRISATIONS:
        raise ValueError(f"CTA parametrisation: unknown site {site!r}, expected one of {list(CTA_PARAMETRISATIONS)}")
    return CTA_PARAMETRISATIONS[key]


def _meta(pars, site):
    return {"TELESCOP": "CTA", "INSTRUME": pars["instrument"], "ORIGIN": "gammalike", "SITE": site}


# ----------------------------------------------------------------------------- default axes
def _default_energy_axis_true():
    return MapAxis.from_energy_bounds("0.01 TeV", "300 TeV", nbin=10, per_decade=True, name="energy_true")


def _default_energy_axis():
    return MapAxis.from_energy_bounds("0.01 TeV", "300 TeV", nbin=10, per_decade=True, name="energy")


def _default_offset_axis():
    return MapAxis.from_bounds(0, 6, nbin=12, unit="deg", name="offset")


def _default_migra_axis():
    return MapAxis.from_bounds(0.2, 3.0, nbin=280, unit="", name="migra")


def _default_rad_axis():
    return MapAxis.from_bounds(0, 1.5, nbin=300, unit="deg", name="rad")


def _or(axis, default):
    return default if axis is None else axis


def _check_axis(axis, name):
    if axis.name != name:
        axis = axis.rename(name)
    return axis


def _centres(axis, unit):
    return u.Quantity(axis.center, axis.unit).to_value(unit)


# ----------------------------------------------------------------------------- formulas (float)
def _aeff_float(pars, energy, offset):
    """Effective area in m2 at true energies (TeV) and offsets (deg), broadcast."""
    x = (energy / pars["aeff_e0"]) ** pars["aeff_s"]
    area = pars["aeff_max"] * x / (1 + x) * np.exp(-((pars["aeff_eth"] / energy) ** pars["aeff_k"]))
    return area * np.exp(-((offset / pars["aeff_theta"]) ** pars["aeff_p"]))


def _psf_sigma_float(pars, energy, offset):
    """Gaussian PSF width (deg)."""
    r68 = np.hypot(pars["psf_a"] * energy ** -pars["psf_b"], pars["psf_rmin"])
    return r68 / _R68_OVER_SIGMA * (1 + pars["psf_offset"] * offset ** 2)


def _resolution_float(pars, energy, offset):
    """Relative energy resolution (sigma of migra)."""
    res = np.hypot(pars["res_0"], pars["res_1"] * energy ** -pars["res_g"])
    return res * (1 + pars["res_offset"] * offset ** 2)


def _bias_float(pars, energy):
    """Relative energy bias (mean migra - 1)."""
    return pars["bias_0"] + (pars["bias_eb"] / energy) ** 2


def _bkg_float(pars, energy, offset):
    """Background rate (s-1 MeV-1 sr-1) at reconstructed energies (TeV) and offsets (deg)."""
    with np.errstate(over="ignore"):
        cutoff = np.exp(-((pars["bkg_eth"] / energy) ** pars["bkg_k"]))
    rate = pars["bkg_r0"] * energy ** -pars["bkg_index"] * cutoff
    return rate * np.exp(-((offset / pars["bkg_theta"]) ** pars["bkg_p"]))


# ----------------------------------------------------------------------------- IRF builders
def make_effective_area(site="south", energy_axis_true=None, offset_axis=None):
    """CTA-like `EffectiveAreaTable2D` (see the module docstring for the formula).

    Parameters
    ----------
    site : {"south", "north"}
        Which array the parametrisation follows.
    energy_axis_true : `~gammalike.maps.MapAxis`, optional
        True-energy axis (default 0.01 - 300 TeV, 10 bins per decade).
    offset_axis : `~gammalike.maps.MapAxis`, optional
        Offset axis (default 0 - 6 deg, 12 bins).
    """
    pars = _pars(site)
    energy_axis_true = _check_axis(_or(energy_axis_true, _default_energy_axis_true()), "energy_true")
    offset_axis = _check_axis(_or(offset_axis, _default_offset_axis()), "offset")
    energy = _centres(energy_axis_true, "TeV")[:, None]
    offset = _centres(offset_axis, "deg")[None, :]
    data = _aeff_float(pars, energy, offset)
    return EffectiveAreaTable2D(
        axes=[energy_axis_true, offset_axis], data=data, unit="m2", meta=_meta(pars, site)
    )


def make_psf(site="south", energy_axis_true=None, offset_axis=None, psf_type="gauss", rad_axis=None):
    """CTA-like Gaussian PSF with an energy- and offset-dependent width.

    Parameters
    ----------
    site : {"south", "north"}
        Which array the parametrisation follows.
    energy_axis_true, offset_axis : `~gammalike.maps.MapAxis`, optional
        Axes (defaults as `make_effective_area`).
    psf_type : {"gauss", "table"}
        "gauss": `EnergyDependentMultiGaussPSF` with a single Gaussian
        (GADF ``PSF_3GAUSS``, ``AMPL_2 = AMPL_3 = 0``); "table": `PSF3D`
        (GADF ``PSF_TABLE``) tabulated on ``rad_axis``.
    rad_axis : `~gammalike.maps.MapAxis`, optional
        Rad axis of the "table" PSF (default 0 - 1.5 deg, 300 bins).
    """
    pars = _pars(site)
    energy_axis_true = _check_axis(_or(energy_axis_true, _default_energy_axis_true()), "energy_true")
    offset_axis = _check_axis(_or(offset_axis, _default_offset_axis()), "offset")
    energy = _centres(energy_axis_true, "TeV")[:, None]
    offset = _centres(offset_axis, "deg")[None, :]
    sigma = _psf_sigma_float(pars, energy, offset)  # (n_energy, n_offset), deg
    meta = _meta(pars, site)
    if psf_type == "gauss":
        zeros = np.zeros_like(sigma)
        data = {
            # SCALE: the peak value of the normalised Gaussian (sr-1)
            "scale": 1.0 / (2 * np.pi * sigma ** 2 * DEG2_TO_SR),
            "sigma_1": sigma, "ampl_2": zeros, "sigma_2": zeros, "ampl_3": zeros, "sigma_3": zeros,
        }
        file_units = {"scale": u.Unit("sr-1"), "ampl_2": u.one, "ampl_3": u.one}
        return EnergyDependentMultiGaussPSF(
            axes=[energy_axis_true, offset_axis], data=data, meta=meta, par_file_units=file_units
        )
    if psf_type == "table":
        rad_axis = _check_axis(_or(rad_axis, _default_rad_axis()), "rad")
        rad = _centres(rad_axis, "deg")[None, None, :]
        s = sigma[:, :, None]
        values = np.exp(-0.5 * (rad / s) ** 2) / (2 * np.pi * s ** 2 * DEG2_TO_SR)
        psf = PSF3D(axes=[energy_axis_true, offset_axis, rad_axis], data=values, unit="sr-1", meta=meta)
        # the table is constant inside each rad bin: normalise so the containment reaches 1
        psf.normalize()
        return psf
    raise ValueError(f"make_psf: unknown psf_type {psf_type!r}, expected 'gauss' or 'table'")


def make_edisp(site="south", energy_axis_true=None, migra_axis=None, offset_axis=None):
    """CTA-like Gaussian `EnergyDispersion2D` in migra.

    The pdf in each migra bin is the exact Gaussian probability of the bin
    divided by its width, renormalised to unit integral over the migra axis.

    Parameters
    ----------
    site : {"south", "north"}
        Which array the parametrisation follows.
    energy_axis_true, offset_axis : `~gammalike.maps.MapAxis`, optional
        Axes (defaults as `make_effective_area`).
    migra_axis : `~gammalike.maps.MapAxis`, optional
        Migration axis (default 0.2 - 3, 280 bins).
    """
    pars = _pars(site)
    energy_axis_true = _check_axis(_or(energy_axis_true, _default_energy_axis_true()), "energy_true")
    offset_axis = _check_axis(_or(offset_axis, _default_offset_axis()), "offset")
    migra_axis = _check_axis(_or(migra_axis, _default_migra_axis()), "migra")
    energy = _centres(energy_axis_true, "TeV")[:, None, None]
    offset = _centres(offset_axis, "deg")[None, None, :]
    edges = u.Quantity(migra_axis.edges).to_value("")[None, :, None]
    mean = 1 + _bias_float(pars, energy)
    sigma = _resolution_float(pars, energy, offset)
    cdf = ndtr((edges - mean) / sigma)  # (n_energy, n_migra + 1, n_offset)
    prob = np.diff(cdf, axis=1)
    total = prob.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(total > 0, prob / total, 0.0)
    pdf = prob / np.diff(edges, axis=1)
    return EnergyDispersion2D(
        axes=[energy_axis_true, migra_axis, offset_axis], data=pdf, meta=_meta(pars, site)
    )


def make_background(site="south", energy_axis=None, offset_axis=None, bkg_type="3d", fov_axis=None):
    """CTA-like background rate: a power law in energy falling slowly with offset.

    Parameters
    ----------
    site : {"south", "north"}
        Which array the parametrisation follows.
    energy_axis : `~gammalike.maps.MapAxis`, optional
        Reconstructed-energy axis (default 0.01 - 300 TeV, 10 bins per decade).
    offset_axis : `~gammalike.maps.MapAxis`, optional
        Offset axis of a `Background2D` (default 0 - 6 deg, 12 bins).
    bkg_type : {"3d", "2d"}
        `Background3D` (fov_lon, fov_lat aligned with RA / Dec, like the
        Prod5 files) or `Background2D` (energy, offset).
    fov_axis : `~gammalike.maps.MapAxis`, optional
        FoV axis of a `Background3D`, used for both fov_lon and fov_lat
        (default -6 to 6 deg, 48 bins).
    """
    pars = _pars(site)
    energy_axis = _check_axis(_or(energy_axis, _default_energy_axis()), "energy")
    energy = _centres(energy_axis, "TeV")
    meta = _meta(pars, site)
    if bkg_type == "2d":
        offset_axis = _check_axis(_or(offset_axis, _default_offset_axis()), "offset")
        offset = _centres(offset_axis, "deg")
        data = _bkg_float(pars, energy[:, None], offset[None, :])
        return Background2D(axes=[energy_axis, offset_axis], data=data, unit="s-1 MeV-1 sr-1", meta=meta)
    if bkg_type == "3d":
        if fov_axis is None:
            fov_axis = MapAxis.from_bounds(-6, 6, nbin=48, unit="deg", name="fov_lon")
        lon_axis = _check_axis(fov_axis, "fov_lon")
        lat_axis = _check_axis(fov_axis, "fov_lat")
        lon = _centres(lon_axis, "deg")
        lat = _centres(lat_axis, "deg")
        offset = np.hypot(lon[:, None], lat[None, :])
        data = _bkg_float(pars, energy[:, None, None], offset[None])
        return Background3D(
            axes=[energy_axis, lon_axis, lat_axis], data=data, unit="s-1 MeV-1 sr-1", meta=meta,
            fov_alignment="RADEC",
        )
    raise ValueError(f"make_background: unknown bkg_type {bkg_type!r}, expected '3d' or '2d'")


def make_irfs(site="south", energy_axis_true=None, energy_axis=None, offset_axis=None,
              migra_axis=None, psf_type="gauss", bkg_type="3d"):
    """A full set of CTA-like IRFs built from the parametrisation (no file needed).

    Parameters
    ----------
    site : {"south", "north"}
        Which array the parametrisation follows.
    energy_axis_true : `~gammalike.maps.MapAxis`, optional
        True-energy axis of aeff, psf and edisp (default 0.01 - 300 TeV, 10 per decade).
    energy_axis : `~gammalike.maps.MapAxis`, optional
        Reconstructed-energy axis of the background (same default range).
    offset_axis : `~gammalike.maps.MapAxis`, optional
        Offset axis (default 0 - 6 deg, 12 bins).
    migra_axis : `~gammalike.maps.MapAxis`, optional
        Migration axis of the energy dispersion (default 0.2 - 3, 280 bins).
    psf_type : {"gauss", "table"}
        See `make_psf`.
    bkg_type : {"3d", "2d"}
        See `make_background`.

    Returns
    -------
    irfs : dict
        {"aeff": `EffectiveAreaTable2D`, "psf": PSF, "edisp": `EnergyDispersion2D`,
        "bkg": `Background3D` or `Background2D`}, as `load_irf_dict_from_file` returns.

    Examples
    --------
    >>> from gammalike.irf.parametrisation import make_irfs
    >>> irfs = make_irfs("south")
    >>> sorted(irfs)
    ['aeff', 'bkg', 'edisp', 'psf']
    """
    return {
        "aeff": make_effective_area(site, energy_axis_true, offset_axis),
        "psf": make_psf(site, energy_axis_true, offset_axis, psf_type=psf_type),
        "edisp": make_edisp(site, energy_axis_true, migra_axis, offset_axis),
        "bkg": make_background(site, energy_axis, offset_axis, bkg_type=bkg_type),
    }


# ----------------------------------------------------------------------------- files
def find_cta_irf_file(site="south", folder=None):
    """Path of a Prod5 IRF file of ``site`` in ``folder`` (default ``$GAMMALIKE_DATA/cta-caldb``), or None."""
    key = str(site).strip().lower()
    if key not in _PROD5_PATTERNS:
        raise ValueError(f"find_cta_irf_file: unknown site {site!r}, expected one of {list(_PROD5_PATTERNS)}")
    if folder is None:
        root = data_folder()
        if root is None:
            return None
        folder = root / "cta-caldb"
    folder = make_path(folder)
    if not folder.is_dir():
        return None
    matches = sorted(folder.glob(_PROD5_PATTERNS[key]))
    return matches[0] if matches else None


def load_cta_irfs(filename=None, site="south", fallback=True):
    """CTA IRFs: from a file, else the Prod5 file of the data folder, else the parametrisation.

    Parameters
    ----------
    filename : str or `~pathlib.Path`, optional
        IRF file (e.g. ``$GAMMAPY_DATA/cta-caldb/Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz``).
        If given it must exist.
    site : {"south", "north"}
        Site used to look for a Prod5 file when ``filename`` is None, and of the
        parametrisation.
    fallback : bool
        Without ``filename`` and without a Prod5 file: build the IRFs with
        `make_irfs` (True) or raise `FileNotFoundError` (False).

    Returns
    -------
    irfs : dict
        IRFs keyed "aeff", "psf", "edisp", "bkg" (and "rad_max" for point-like files).
    """
    if filename is not None:
        return load_irf_dict_from_file(filename)
    path = find_cta_irf_file(site)
    if path is not None:
        log.info(f"Loading CTA IRFs from {path}")
        return load_irf_dict_from_file(path)
    if not fallback:
        raise FileNotFoundError(
            f"load_cta_irfs: no Prod5 {site} IRF file found in $GAMMALIKE_DATA/cta-caldb "
            "(set GAMMALIKE_DATA or pass a filename)"
        )
    log.info(f"No Prod5 {site} IRF file found: using the gammalike parametrisation")
    return make_irfs(site=site)


def write_irf_dict(irfs, filename, overwrite=False):
    """Write a dict of IRFs into one FITS file (CALDB style, readable by `load_irf_dict_from_file`).

    Parameters
    ----------
    irfs : dict
        IRFs keyed "aeff", "psf", "edisp", "bkg", "rad_max" (those present).
    filename : str or `~pathlib.Path`
        Output file.
    overwrite : bool
        Replace an existing file.
    """
    hdus = [fits.PrimaryHDU()]
    for key in ("aeff", "psf", "edisp", "bkg", "rad_max"):
        irf = irfs.get(key)
        if irf is not None:
            hdus.append(irf.to_table_hdu())
    unknown = set(irfs) - {"aeff", "psf", "edisp", "bkg", "rad_max"}
    if unknown:
        raise ValueError(f"write_irf_dict: unknown IRF keys {sorted(unknown)}")
    with write_atomic(filename, overwrite=overwrite) as tmp:
        fits.HDUList(hdus).writeto(tmp)
