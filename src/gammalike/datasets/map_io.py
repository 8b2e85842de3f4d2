"""FITS layout of `MapDataset` ("gadf", as gammapy writes it).

One file; each map is an image HDU plus its ``<NAME>_BANDS`` axes table
(see `gammalike.maps`):

======================  ==========================================================
HDU                     content
======================  ==========================================================
PRIMARY                 header keyword NAME (dataset name)
COUNTS                  counts (axis "energy")
EXPOSURE                exposure (axis "energy_true"), e.g. cm2 s
BACKGROUND              predicted background counts (axis "energy")
EDISP, EDISP_EXPOSURE   `EDispKernelMap` (axes energy, energy_true) or `EDispMap`
                        (axes migra, energy_true), and its exposure
PSF, PSF_EXPOSURE       `PSFMap` (axes rad, energy_true) and its exposure
MASK_SAFE, MASK_FIT     boolean masks (axis "energy"; older files store integers)
GTI                     good time intervals (table START / STOP)
META_TABLE              observation summary table (optional)
======================  ==========================================================

Files of older releases differ: the PSF radius axis may be called "theta"
(in rad) with true energies in GeV, masks are integer images, MASK_FIT and
the exposure HDUs of the IRF maps may be missing.  All of them read.
"""
import numpy as np
from astropy.io import fits
from astropy.table import Table

from ..maps import Map

__all__ = ["map_dataset_to_hdulist", "map_dataset_kwargs_from_hdulist", "irf_map_classes"]

# HDU name -> constructor keyword, for the plain maps
_MAP_HDUS = {"COUNTS": "counts", "EXPOSURE": "exposure", "BACKGROUND": "background"}
_MASK_HDUS = {"MASK_SAFE": "mask_safe", "MASK_FIT": "mask_fit"}


def irf_map_classes():
    """``(PSFMap, EDispKernelMap, EDispMap)`` of `gammalike.irf` (imported lazily)."""
    from .. import irf

    try:
        return irf.PSFMap, irf.EDispKernelMap, irf.EDispMap
    except AttributeError:
        from ..irf.edisp_map import EDispKernelMap, EDispMap
        from ..irf.psf_map import PSFMap

        return PSFMap, EDispKernelMap, EDispMap


# --------------------------------------------------------------------------- reading
def _read_map(hdulist, hdu, filename):
    try:
        return Map.from_hdulist(hdulist, hdu=hdu, map_type="wcs")
    except (KeyError, ValueError) as exc:
        raise type(exc)(f"{filename}: HDU {hdu!r}: {exc.args[0] if exc.args else exc}") from exc


def _as_bool_map(m):
    if m.data.dtype == bool:
        return m
    return m._init_copy(data=np.asarray(m.data) != 0, unit="")


def _rename_old_axes(m, renames):
    """Map with old axis names replaced (e.g. PSF "theta" -> "rad")."""
    names = m.geom.axes.names
    old = [n for n in renames if n in names]
    if not old:
        return m
    geom = m.geom.rename_axes(old, [renames[n] for n in old])
    return m._init_copy(geom=geom)


def _read_irf_map(cls, hdulist, hdu, filename, renames=None):
    names = [h.name for h in hdulist]
    data_map = _read_map(hdulist, hdu, filename)
    exposure_map = None
    if f"{hdu}_EXPOSURE" in names:
        exposure_map = _read_map(hdulist, f"{hdu}_EXPOSURE", filename)
    if renames:
        data_map = _rename_old_axes(data_map, renames)
        if exposure_map is not None:
            exposure_map = _rename_old_axes(exposure_map, renames)
    return cls(data_map, exposure_map)


def map_dataset_kwargs_from_hdulist(hdulist, filename=""):
    """Constructor arguments of a `MapDataset` from a "gadf" `~astropy.io.fits.HDUList`."""
    names = [h.name for h in hdulist]
    if "COUNTS" not in names and "BACKGROUND" not in names:
        raise KeyError(
            f"{filename}: neither COUNTS nor BACKGROUND HDU: not a MapDataset file (HDUs: {names})"
        )
    kwargs = {}
    for hdu, key in _MAP_HDUS.items():
        if hdu in names:
            kwargs[key] = _read_map(hdulist, hdu, filename)
    for hdu, key in _MASK_HDUS.items():
        if hdu in names:
            kwargs[key] = _as_bool_map(_read_map(hdulist, hdu, filename))
    if "PSF" in names or "EDISP" in names:
        PSFMap, EDispKernelMap, EDispMap = irf_map_classes()
        if "PSF" in names:
            kwargs["psf"] = _read_irf_map(PSFMap, hdulist, "PSF", filename, renames={"theta": "rad"})
        if "EDISP" in names:
            axes = _read_map(hdulist, "EDISP", filename).geom.axes.names
            cls = EDispMap if "migra" in axes else EDispKernelMap
            kwargs["edisp"] = _read_irf_map(cls, hdulist, "EDISP", filename)
    if "GTI" in names:
        from ..data import GTI

        kwargs["gti"] = GTI(Table.read(hdulist["GTI"]))
    if "META_TABLE" in names:
        kwargs["meta_table"] = Table.read(hdulist["META_TABLE"])
    name = hdulist[0].header.get("NAME")
    if name is not None:
        kwargs["name"] = str(name)
    return kwargs


# --------------------------------------------------------------------------- writing
def _map_hdus(m, hdu):
    """Image and BANDS HDUs of a map, without the empty primary HDU."""
    return list(m.to_hdulist(hdu=hdu))[1:]


def _irf_parts(irf, attr):
    """(data map, exposure map) of an IRF map object."""
    data_map = getattr(irf, attr, None)
    if data_map is None:
        raise TypeError(f"cannot write {type(irf).__name__}: no {attr!r} map")
    return data_map, getattr(irf, "exposure_map", None)


def map_dataset_to_hdulist(dataset):
    """`~astropy.io.fits.HDUList` of a `MapDataset` (see module docstring)."""
    primary = fits.PrimaryHDU()
    primary.header["NAME"] = dataset.name
    hdus = [primary]
    for hdu, key in list(_MAP_HDUS.items()):
        m = getattr(dataset, key)
        if m is not None:
            hdus += _map_hdus(m, hdu)
    if dataset.edisp is not None:
        edisp_map, exposure = _irf_parts(dataset.edisp, "edisp_map")
        hdus += _map_hdus(edisp_map, "EDISP")
        if exposure is not None:
            hdus += _map_hdus(exposure, "EDISP_EXPOSURE")
    if dataset.psf is not None:
        psf_map, exposure = _irf_parts(dataset.psf, "psf_map")
        hdus += _map_hdus(psf_map, "PSF")
        if exposure is not None:
            hdus += _map_hdus(exposure, "PSF_EXPOSURE")
    for hdu, key in _MASK_HDUS.items():
        m = getattr(dataset, key)
        if m is not None:
            hdus += _map_hdus(m, hdu)
    if dataset.gti is not None:
        from .ogip import gti_to_hdu

        hdus.append(gti_to_hdu(dataset.gti))
    if dataset.meta_table is not None:
        hdus.append(fits.BinTableHDU(Table(dataset.meta_table), name="META_TABLE"))
    return fits.HDUList(hdus)
