"""The Fermi-LAT ``gtpsf`` PSF table: read into and write from a `PSFMap`.

``gtpsf`` averages the LAT PSF over an observation at one sky position.  Its
file holds two tables (Fermi Science Tools, ``gtpsf`` help):

- ``PSF``: one row per energy: ``Energy`` (MeV), ``Exposure`` (cm2 s) and
  ``Psf`` (sr-1, one value per angle; normalised: its integral over the
  solid angle is one);
- ``THETA``: the angles ``Theta`` (deg) from the source.

The columns usually carry no units: these are assumed (a ``TUNIT`` is
honoured).  As for the Fermi-LAT datasets written by the reference
implementation, the PSF applies everywhere: the map is the all-sky 2 x 1
grid with the same PSF in both pixels.
"""
import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Table

from ..maps import Map, MapAxis, WcsGeom

__all__ = ["read_gtpsf", "gtpsf_hdulist"]

_UNITS = {"Energy": "MeV", "Exposure": "cm2 s", "Psf": "sr-1", "Theta": "deg"}


def _column(table, name, where):
    if name not in table.colnames:
        raise KeyError(f"gtpsf {where} table: column {name!r} not found (columns: {table.colnames})")
    unit = table[name].unit or u.Unit(_UNITS[name])
    return u.Quantity(np.asarray(table[name], dtype=float), unit)


def _all_sky_geom():
    return WcsGeom.create(npix=(2, 1), binsz=180, proj="CAR", frame="icrs")


def read_gtpsf(hdulist):
    """PSF map and exposure map (for `PSFMap`) from the HDU list of a ``gtpsf`` file."""
    names = [hdu.name for hdu in hdulist]
    for name in ("PSF", "THETA"):
        if name not in names:
            raise KeyError(f"gtpsf: HDU {name!r} not found (HDUs: {names})")
    table = Table.read(hdulist["PSF"])
    theta = _column(Table.read(hdulist["THETA"]), "Theta", "THETA")
    energy = _column(table, "Energy", "PSF")
    exposure = _column(table, "Exposure", "PSF")
    psf = _column(table, "Psf", "PSF")
    if psf.shape != (energy.size, theta.size):
        raise ValueError(
            f"gtpsf: column 'Psf' has shape {psf.shape}, expected (n_energy, n_theta) = "
            f"({energy.size}, {theta.size})"
        )
    energy_axis = MapAxis.from_nodes(energy.to("TeV"), name="energy_true", interp="log")
    rad_axis = MapAxis.from_nodes(theta.to("deg"), name="rad")
    image = _all_sky_geom()
    geom = image.to_cube([rad_axis, energy_axis])
    data = np.broadcast_to(psf.to_value("sr-1")[:, :, None, None], geom.data_shape)
    psf_map = Map.from_geom(geom, data=np.array(data), unit="sr-1")
    geom_exposure = geom.squash("rad")
    data = np.broadcast_to(exposure.to_value("m2 s")[:, None, None, None], geom_exposure.data_shape)
    exposure_map = Map.from_geom(geom_exposure, data=np.array(data), unit="m2 s")
    return psf_map, exposure_map


def gtpsf_hdulist(psf_map, exposure_map=None):
    """``gtpsf`` HDU list (PRIMARY, PSF, THETA) of the PSF at the first pixel of the maps."""
    energy = psf_map.geom.axes["energy_true"].center.to("MeV")
    theta = psf_map.geom.axes["rad"].center.to("deg")
    values = np.asarray(psf_map.quantity.to_value("sr-1"))
    values = values.reshape(values.shape[:2] + (-1,))[..., 0]
    if exposure_map is None:
        exposure = np.zeros(energy.size)
    else:
        exposure = np.asarray(exposure_map.quantity.to_value("cm2 s"))
        exposure = exposure.reshape(exposure.shape[0], -1)[:, 0]
    table = Table({"Energy": energy.value, "Exposure": exposure, "Psf": values})
    table["Energy"].unit, table["Exposure"].unit, table["Psf"].unit = "MeV", "cm2 s", "sr-1"
    theta_table = Table({"Theta": theta.value})
    theta_table["Theta"].unit = "deg"
    hdu_psf, hdu_theta = fits.table_to_hdu(table), fits.table_to_hdu(theta_table)
    hdu_psf.name, hdu_theta.name = "PSF", "THETA"
    return fits.HDUList([fits.PrimaryHDU(), hdu_psf, hdu_theta])
