"""FITS layout of WCS maps: image HDU + BANDS table HDU (gadf map format).

Written layout (as the files in ``$GAMMAPY_DATA`` use it):

- ``hdu=None``: the image goes in the PRIMARY HDU, axes in a "BANDS" HDU;
- ``hdu="COUNTS"``: empty PRIMARY, image HDU "COUNTS", axes in "COUNTS_BANDS".

The image header holds the celestial WCS, ``AXCOLS{i}``/``INTERP{i}`` for the
non-spatial axes, ``BANDSHDU`` (name of the axes HDU), ``BUNIT`` and ``META``
(JSON). Fermi-LAT files (EBOUNDS / ENERGIES HDUs) are read as well.
"""
import json
import warnings

import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Table

from .io import axes_from_bands_table, axes_to_bands_table
from .wcs import WcsGeom, _celestial_wcs

__all__ = ["wcs_map_to_hdulist", "wcs_map_from_hdulist"]

_IMAGE_HDUS = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)


def _json_meta(meta):
    try:
        return json.dumps(meta, default=str)
    except (TypeError, ValueError):
        return "{}"


def wcs_map_to_hdulist(m, hdu=None, hdu_bands=None, sparse=False, format="gadf"):
    """HDU list of a `WcsNDMap` (see module docstring)."""
    if sparse:
        raise NotImplementedError("WcsNDMap.to_hdulist: sparse format is not supported")
    geom = m.geom
    header = geom.to_header()
    if hdu_bands is None:
        hdu_bands = f"{hdu.upper()}_BANDS" if hdu else "BANDS"
    if len(geom.axes):
        header.update(geom.axes.to_header(format="gadf"))
        header["BANDSHDU"] = hdu_bands
    data = m.data
    if data.dtype == bool:
        # FITS has no boolean images: store 0/1 bytes and flag them
        data = data.astype(np.uint8)
        header["BOOLMASK"] = (True, "data is a boolean mask")
    header["META"] = _json_meta(m.meta)
    header["BUNIT"] = m.unit.to_string("fits") if m.unit != u.dimensionless_unscaled else ""

    hdus = []
    if hdu is None:
        hdus.append(fits.PrimaryHDU(data=data, header=header))
    else:
        hdus.append(fits.PrimaryHDU())
        hdus.append(fits.ImageHDU(data=data, header=header, name=hdu.upper()))
    if len(geom.axes):
        table = axes_to_bands_table(geom.axes)
        bands = fits.BinTableHDU(table, name=hdu_bands)
        bands.header.update(geom.axes.to_header(format="gadf"))
        hdus.append(bands)
    return fits.HDUList(hdus)


def _find_image_hdu(hdulist, hdu, filename=""):
    names = [h.name for h in hdulist]
    if hdu is not None:
        if hdu not in hdulist:
            raise KeyError(f"Map.read: HDU {hdu!r} not found in {filename!r} (HDUs: {names})")
        return hdulist[hdu]
    for h in hdulist:
        if isinstance(h, _IMAGE_HDUS) and h.data is not None:
            return h
    raise KeyError(f"Map.read: no image HDU with data in {filename!r} (HDUs: {names})")


def _find_bands_hdu(hdulist, image_hdu, hdu_bands):
    names = [h.name for h in hdulist]
    header = image_hdu.header
    candidates = [hdu_bands, header.get("BANDSHDU")]
    name = image_hdu.name
    if name and name != "PRIMARY":
        candidates.append(f"{name}_BANDS")
    candidates += ["BANDS", "EBOUNDS", "ENERGIES"]
    for cand in candidates:
        if cand and cand in names:
            return hdulist[cand]
    if hdu_bands is not None:
        raise KeyError(f"Map.read: bands HDU {hdu_bands!r} not found (HDUs: {names})")
    return None


def _parse_unit(text):
    if not text:
        return u.dimensionless_unscaled
    try:
        return u.Unit(text, format="fits")
    except ValueError:
        return u.Unit(text, parse_strict="warn")


def wcs_map_from_hdulist(cls, hdulist, hdu=None, hdu_bands=None, format=None, filename=""):
    """`WcsNDMap` from an HDU list (see module docstring)."""
    image = _find_image_hdu(hdulist, hdu, filename)
    header = image.header
    data = np.asarray(image.data)
    if data.dtype.byteorder not in ("=", "|"):
        data = data.astype(data.dtype.newbyteorder("="))
    wcs = _celestial_wcs(header)
    npix = (int(header["NAXIS1"]), int(header["NAXIS2"]))
    axes = []
    if data.ndim > 2:
        bands = _find_bands_hdu(hdulist, image, hdu_bands)
        if bands is None:
            raise KeyError(
                f"Map.read: image {image.name!r} of {filename!r} has {data.ndim} dimensions but no "
                "BANDS / EBOUNDS / ENERGIES HDU describes the non-spatial axes"
            )
        table = Table.read(bands)
        axes = axes_from_bands_table(table, header=header)
        expected = tuple(ax.nbin for ax in axes)[::-1]
        if expected != data.shape[:-2]:
            raise ValueError(
                f"Map.read: axes from HDU {bands.name!r} have shape {expected[::-1]} but image "
                f"{image.name!r} has non-spatial shape {data.shape[:-2][::-1]}"
            )
    geom = WcsGeom(wcs, npix, axes=axes)
    if header.get("BOOLMASK", False):
        data = data.astype(bool)
    unit = _parse_unit(header.get("BUNIT", "").strip())
    meta = {}
    if "META" in header:
        try:
            meta = json.loads(header["META"])
        except (TypeError, ValueError):
            warnings.warn(f"Map.read: could not parse META keyword of HDU {image.name!r}")
    return cls(geom, data=data, unit=unit, meta=meta)
