"""IRF registry (GADF ``HDU_CLASS`` -> class) and reading of CALDB-style files with several IRFs."""
import logging

from gammalike.utils.paths import make_path

from .background import Background2D, Background3D
from .core import fits_file, read_table_hdu
from .edisp import EnergyDispersion2D
from .effective_area import EffectiveAreaTable2D
from .psf import PSF3D, EnergyDependentMultiGaussPSF, PSFKing
from .rad_max import RadMax2D

__all__ = ["IRF_REGISTRY", "IRF_HDU_TYPES", "load_irf_dict_from_file", "irf_class_from_header"]

log = logging.getLogger(__name__)

#: HDU_CLASS of the GADF HDU index table -> IRF class
IRF_REGISTRY = {
    cls.tag: cls
    for cls in (
        EffectiveAreaTable2D, EnergyDispersion2D, PSF3D, EnergyDependentMultiGaussPSF,
        PSFKing, Background2D, Background3D, RadMax2D,
    )
}

#: HDU_CLASS -> HDU_TYPE (key of the IRF dict)
IRF_HDU_TYPES = {
    "aeff_2d": "aeff",
    "edisp_2d": "edisp",
    "psf_table": "psf",
    "psf_3gauss": "psf",
    "psf_king": "psf",
    "bkg_2d": "bkg",
    "bkg_3d": "bkg",
    "rad_max_2d": "rad_max",
}

# HDUCLAS2 -> HDU type, and (type, HDUCLAS4) -> HDU class, with the variants found in
# CTA 1DC ("2D", "3D", "3GAUSS", "RPSF") and older H.E.S.S. files ("PSF_2D_KING")
_CLAS2_TO_TYPE = {
    "EFF_AREA": "aeff", "EDISP": "edisp", "PSF": "psf", "RPSF": "psf",
    "BKG": "bkg", "RAD_MAX": "rad_max", "PSF_2D_KING": "psf",
}
_CLAS4_TO_CLASS = {
    ("aeff", "AEFF_2D"): "aeff_2d", ("aeff", "2D"): "aeff_2d",
    ("edisp", "EDISP_2D"): "edisp_2d", ("edisp", "2D"): "edisp_2d",
    ("psf", "PSF_TABLE"): "psf_table", ("psf", "PSF_3GAUSS"): "psf_3gauss",
    ("psf", "3GAUSS"): "psf_3gauss", ("psf", "PSF_KING"): "psf_king",
    ("bkg", "BKG_2D"): "bkg_2d", ("bkg", "2D"): "bkg_2d",
    ("bkg", "BKG_3D"): "bkg_3d", ("bkg", "3D"): "bkg_3d",
    ("rad_max", "RAD_MAX_2D"): "rad_max_2d",
}


def irf_class_from_header(header, colnames=()):
    """GADF HDU class ("aeff_2d", "psf_3gauss", ...) of an IRF HDU from its header, or None."""
    clas2 = str(header.get("HDUCLAS2", "")).strip().upper()
    clas4 = str(header.get("HDUCLAS4", "")).strip().upper()
    hdu_type = _CLAS2_TO_TYPE.get(clas2)
    if hdu_type is None:
        return None
    if clas2 == "PSF_2D_KING":
        return "psf_king"
    hdu_class = _CLAS4_TO_CLASS.get((hdu_type, clas4))
    if hdu_class is not None:
        return hdu_class
    # guess from the columns when HDUCLAS4 is missing
    cols = {c.upper() for c in colnames}
    if hdu_type == "psf":
        if "RPSF" in cols:
            return "psf_table"
        if "SIGMA_1" in cols:
            return "psf_3gauss"
        if "GAMMA" in cols:
            return "psf_king"
    if hdu_type == "bkg":
        return "bkg_3d" if "DETX_LO" in cols else "bkg_2d"
    return {"aeff": "aeff_2d", "edisp": "edisp_2d", "rad_max": "rad_max_2d"}.get(hdu_type)


def load_irf_dict_from_file(filename):
    """Read all IRFs of a file (e.g. a CTA CALDB ``irf_file.fits``) into a dict.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        FITS file.

    Returns
    -------
    irfs : dict
        IRFs keyed by type: "aeff", "edisp", "psf", "bkg", "rad_max" (those present).
    """
    path = make_path(filename)
    irfs = {}
    ff = fits_file(path)
    for idx in range(1, len(ff)):
        header = ff.header(idx)
        if str(header.get("XTENSION", "")).strip() != "BINTABLE":
            continue
        hdu_class = irf_class_from_header(header, ff.colnames(idx))
        if hdu_class is None:
            continue
        hdu_type = IRF_HDU_TYPES[hdu_class]
        if hdu_type in irfs:
            log.warning(f"{path}: more than one {hdu_type} HDU, using the first one")
            continue
        table = read_table_hdu(path, idx)
        irfs[hdu_type] = IRF_REGISTRY[hdu_class].from_table(table)
    if not irfs:
        raise ValueError(f"{path}: no IRF HDU found (expected HDUCLAS2 EFF_AREA, EDISP, PSF, BKG or RAD_MAX)")
    return irfs
