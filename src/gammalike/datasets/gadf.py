"""Reduced-dataset FITS layout ("gadf") of spectrum datasets.

One file, one region map per quantity, each as ``NAME`` (DATA column and
axis columns), ``NAME_BANDS`` and ``NAME_REGION`` HDUs (see
`~gammalike.maps.RegionNDMap.to_hdulist`): COUNTS, EXPOSURE, BACKGROUND,
EDISP (axes energy, energy_true: the migration matrix), EDISP_EXPOSURE,
MASK_SAFE, MASK_FIT, and for ON/OFF datasets COUNTS_OFF, ACCEPTANCE,
ACCEPTANCE_OFF; GTI if any.  The livetime is the LIVETIME keyword (s) of
the EXPOSURE HDU, the dataset name the NAME keyword of the primary HDU.
"""
import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from ..data import GTI
from ..irf import EDispKernel
from ..maps import RegionGeom, RegionNDMap
from .ogip import gti_to_hdu

__all__ = ["spectrum_dataset_to_hdulist", "spectrum_dataset_kwargs_from_hdulist"]

_MAPS = ("counts", "exposure", "background", "mask_safe", "mask_fit", "counts_off", "acceptance", "acceptance_off")


def _map_hdus(m, name):
    hdus = m.to_hdulist(format="gadf", hdu=name)
    return [hdu for hdu in hdus[1:]]


def spectrum_dataset_to_hdulist(dataset):
    """`~astropy.io.fits.HDUList` of a `SpectrumDataset` or `SpectrumDatasetOnOff`."""
    primary = fits.PrimaryHDU()
    primary.header["NAME"] = dataset.name
    primary.header["DSTYPE"] = dataset.tag
    hdus = [primary]
    for attr in _MAPS:
        m = getattr(dataset, attr, None)
        if attr == "background" and getattr(dataset, "_has_off", False):
            continue  # alpha * counts_off: derived
        if m is None:
            continue
        map_hdus = _map_hdus(m, attr.upper())
        if attr == "exposure":
            livetime = dataset.livetime.to_value("s")
            if np.isfinite(livetime):
                map_hdus[0].header["LIVETIME"] = livetime
        hdus.extend(map_hdus)
    edisp = dataset.edisp
    if edisp is not None:
        geom = RegionGeom(dataset.counts.geom.region, axes=[edisp.energy_axis, edisp.energy_axis_true],
                          wcs=dataset.counts.geom.wcs)
        edisp_map = RegionNDMap.from_geom(geom, data=edisp.pdf_matrix.reshape(geom.data_shape))
        hdus.extend(_map_hdus(edisp_map, "EDISP"))
        if dataset.exposure is not None:
            geom_exp = geom.squash("energy")
            exposure = RegionNDMap.from_geom(
                geom_exp, data=np.asarray(dataset.exposure.data).reshape(geom_exp.data_shape),
                unit=dataset.exposure.unit,
            )
            hdus.extend(_map_hdus(exposure, "EDISP_EXPOSURE"))
    gti_hdu = gti_to_hdu(dataset.gti)
    if gti_hdu is not None:
        hdus.append(gti_hdu)
    return fits.HDUList(hdus)


def spectrum_dataset_kwargs_from_hdulist(hdulist, filename=""):
    """Constructor arguments of a spectrum dataset from a "gadf" `~astropy.io.fits.HDUList`."""
    names = [h.name for h in hdulist]
    if "COUNTS" not in names:
        raise KeyError(f"{filename}: no COUNTS HDU; not a gadf spectrum dataset (HDUs: {names})")
    kwargs = {}
    for attr in _MAPS:
        hdu = attr.upper()
        if hdu in names:
            m = RegionNDMap.from_hdulist(hdulist, format="gadf", hdu=hdu)
            if attr.startswith("mask"):
                m = RegionNDMap.from_geom(m.geom, data=m.data.astype(bool), dtype=bool)
            kwargs[attr] = m
    if "exposure" in kwargs and "LIVETIME" in hdulist["EXPOSURE"].header:
        kwargs["exposure"].meta["livetime"] = hdulist["EXPOSURE"].header["LIVETIME"] * u.s
    if "EDISP" in names:
        edisp_map = RegionNDMap.from_hdulist(hdulist, format="gadf", hdu="EDISP")
        axes = edisp_map.geom.axes
        data = np.asarray(edisp_map.data)[..., 0, 0]
        kwargs["edisp"] = EDispKernel(axes=[axes["energy_true"], axes["energy"]], data=data)
    if "GTI" in names:
        kwargs["gti"] = GTI(Table.read(hdulist["GTI"]))
    name = hdulist[0].header.get("NAME")
    if name is not None:
        kwargs["name"] = str(name)
    return kwargs
