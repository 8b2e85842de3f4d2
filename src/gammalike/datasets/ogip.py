"""OGIP spectrum files: PHA (ON counts), BKG (OFF counts), ARF, RMF.

Reading follows OGIP/92-007 (PHA, type I) and CAL/GEN/92-002 (ARF/RMF):

- PHA ``SPECTRUM`` HDU: COUNTS, QUALITY (0 = good), BACKSCAL (column or
  keyword), EXPOSURE keyword (the livetime in s), ANCRFILE / RESPFILE /
  BACKFILE keywords naming the other files, relative to the PHA's folder.
- ``EBOUNDS`` HDU: reconstructed-energy bins (keV when no unit is given).
- ARF ``SPECRESP`` HDU: effective area per true-energy bin (ENERG_LO/HI).
- RMF: see `~gammalike.irf.EDispKernel`.

The functions here work on plain arrays and axes; `SpectrumDatasetOnOff`
turns them into maps.
"""
import logging
import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from ..irf import EDispKernel
from ..maps import MapAxis
from ..utils import make_path, write_atomic

__all__ = ["OGIPReader", "OGIPWriter", "ogip_filenames"]

log = logging.getLogger(__name__)

_NONE_VALUES = ("", "NONE", "NULL", "%MATCH%")


def ogip_filenames(filename):
    """Names of the ARF, RMF and BKG files written next to a PHA file.

    ``pha_obs23523.fits`` -> ``pha_obs23523_arf.fits``, ``_rmf.fits``, ``_bkg.fits``;
    compressed names keep their suffixes: ``obs_1.fits.gz`` -> ``obs_1_arf.fits.gz``.

    Returns
    -------
    names : dict
        Keys "arf", "rmf", "bkg": file names (without folder).
    """
    name = make_path(filename).name
    gz = ""
    if name.lower().endswith(".gz"):
        name, gz = name[:-3], name[-3:]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, "fits"
    return {kind: f"{stem}_{kind}.{ext}{gz}" for kind in ("arf", "rmf", "bkg")}


def _keyword_file(header, key):
    value = header.get(key)
    if value is None:
        return None
    value = str(value).strip()
    if value.upper() in _NONE_VALUES:
        return None
    return value


def _spectrum_hdu(hdulist, path):
    names = [hdu.name for hdu in hdulist]
    if "SPECTRUM" in names:
        return hdulist["SPECTRUM"]
    # fall back on the first table with a COUNTS column
    for hdu in hdulist[1:]:
        if isinstance(hdu, fits.BinTableHDU) and "COUNTS" in [c.upper() for c in hdu.columns.names]:
            return hdu
    raise KeyError(f"{path}: no SPECTRUM HDU with a COUNTS column (HDUs: {names})")


def _column_or_keyword(hdu, name, n, default, path):
    """Per-channel values of an OGIP quantity stored as column or keyword."""
    cols = [c.upper() for c in hdu.columns.names]
    if name in cols:
        return np.asarray(hdu.data[name], dtype=np.float64).reshape(n)
    if name in hdu.header:
        return np.full(n, float(hdu.header[name]))
    if default is None:
        raise KeyError(f"{path}: {name} neither a column nor a keyword of HDU {hdu.name!r}")
    return np.full(n, float(default))


class OGIPReader:
    """Read a PHA file and the ARF, RMF and BKG files it names.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        PHA file (``$GAMMAPY_DATA`` style variables are expanded).
    """

    def __init__(self, filename):
        self.filename = make_path(filename)

    def _resolve(self, header, key, required):
        """Path of the file named by ``key`` in the PHA header (relative to the PHA folder)."""
        name = _keyword_file(header, key)
        if name is None:
            if required:
                raise ValueError(
                    f"{self.filename}: keyword {key} is missing or empty; it must name the "
                    f"{'effective area (ARF)' if key == 'ANCRFILE' else key} file"
                )
            return None
        path = make_path(name)
        if not path.is_absolute():
            path = self.filename.parent / path
        if not path.exists():
            raise FileNotFoundError(
                f"{self.filename}: {key} {name!r} not found (looked for {path})"
            )
        return path

    def read(self):
        """Read everything.

        Returns
        -------
        data : dict
            name, counts, mask_safe, acceptance, livetime (s), energy_axis,
            counts_off, acceptance_off (None without BACKFILE), aeff (cm2),
            energy_axis_true, edisp (`~gammalike.irf.EDispKernel` or None),
            gti (`~astropy.table.Table` or None), region_hdu (or None), meta.
        """
        path = self.filename
        if not path.exists():
            raise FileNotFoundError(f"PHA file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            data = self._read_pha(hdulist, path)
            header = _spectrum_hdu(hdulist, path).header
            arf_path = self._resolve(header, "ANCRFILE", required=True)
            rmf_path = self._resolve(header, "RESPFILE", required=False)
            bkg_path = self._resolve(header, "BACKFILE", required=False)

        aeff, energy_axis_true, exposure = self.read_arf(arf_path)
        data["aeff"] = aeff
        data["exposure"] = exposure
        data["energy_axis_true"] = energy_axis_true

        if rmf_path is not None:
            edisp = EDispKernel.read(rmf_path)
            if not np.allclose(
                edisp.energy_axis_true.edges.to_value("TeV"),
                energy_axis_true.edges.to_value("TeV"), rtol=1e-5,
            ):
                raise ValueError(
                    f"{path}: true-energy bins of RMF {rmf_path.name} and ARF {arf_path.name} differ"
                )
            if edisp.energy_axis.nbin != data["energy_axis"].nbin:
                raise ValueError(
                    f"{path}: RMF {rmf_path.name} has {edisp.energy_axis.nbin} channels, "
                    f"the PHA {data['energy_axis'].nbin}"
                )
            # one set of axes for the dataset: the PHA's EBOUNDS and the ARF's (float64) edges
            edisp = EDispKernel(
                axes=[energy_axis_true, data["energy_axis"]], data=edisp.data, meta=edisp.meta
            )
        else:
            edisp = None
        data["edisp"] = edisp
        data["filename"] = str(path)

        if bkg_path is not None:
            with fits.open(bkg_path, memmap=False) as hdulist:
                bkg = self._read_pha(hdulist, bkg_path)
            if bkg["counts"].shape != data["counts"].shape:
                raise ValueError(
                    f"{path}: BKG file {bkg_path.name} has {bkg['counts'].size} channels, "
                    f"the PHA {data['counts'].size}"
                )
            data["counts_off"] = bkg["counts"]
            data["acceptance_off"] = bkg["acceptance"]
        else:
            data["counts_off"] = None
            data["acceptance_off"] = None
        return data

    @staticmethod
    def _read_pha(hdulist, path):
        hdu = _spectrum_hdu(hdulist, path)
        header = hdu.header
        cols = [c.upper() for c in hdu.columns.names]
        if "COUNTS" not in cols:
            raise KeyError(f"{path}: HDU {hdu.name!r} has no COUNTS column (columns: {cols})")
        counts = np.asarray(hdu.data["COUNTS"], dtype=np.float64)
        if counts.ndim != 1:
            raise ValueError(f"{path}: type II PHA files (several spectra) are not supported")
        n = counts.size
        if "QUALITY" in cols:
            # int (0 good) or bool (False good), as written by different tools
            quality = np.asarray(hdu.data["QUALITY"]).astype(np.int64)
        else:
            quality = np.full(n, int(header.get("QUALITY", 0)))
        acceptance = _column_or_keyword(hdu, "BACKSCAL", n, 1.0, path)
        if "EXPOSURE" not in header:
            raise KeyError(f"{path}: keyword EXPOSURE (livetime) missing in HDU {hdu.name!r}")
        names = [h.name for h in hdulist]
        if "EBOUNDS" not in names:
            raise KeyError(f"{path}: no EBOUNDS HDU (HDUs: {names})")
        energy_axis = MapAxis.from_table(Table.read(hdulist["EBOUNDS"]), format="ogip")
        if energy_axis.nbin != n:
            raise ValueError(f"{path}: EBOUNDS has {energy_axis.nbin} channels, SPECTRUM {n}")
        gti = Table.read(hdulist["GTI"]) if "GTI" in names else None
        region_hdu = hdulist["REGION"].copy() if "REGION" in names else None
        # placeholders written by OGIP tools ("unknown", "DUMMY") carry no information
        meta = {
            key: header[key] for key in ("TELESCOP", "INSTRUME", "FILTER", "OBS_ID")
            if key in header and str(header[key]).strip() not in ("", "unknown", "DUMMY", "None")
        }
        return {
            "name": str(header["OBS_ID"]) if "OBS_ID" in header else None,
            "counts": counts,
            "mask_safe": quality == 0,
            "acceptance": acceptance,
            "livetime": float(header["EXPOSURE"]),
            "energy_axis": energy_axis,
            "gti": gti,
            "region_hdu": region_hdu,
            "meta": meta,
        }

    @staticmethod
    def read_arf(filename):
        """Effective area (cm2), true-energy axis and exact exposure (cm2 s or None) of an ARF.

        The optional ``EXPOSURE`` column is a gammalike extension (other OGIP
        readers ignore it): ``SPECRESP * EXPOSURE keyword`` can differ from the
        exposure that was written by one ulp, the column makes the write ->
        read round trip exact.
        """
        path = make_path(filename)
        with fits.open(path, memmap=False) as hdulist:
            names = [h.name for h in hdulist]
            if "SPECRESP" not in names:
                raise KeyError(f"{path}: no SPECRESP HDU (HDUs: {names})")
            table = Table.read(hdulist["SPECRESP"])
        energy_axis_true = MapAxis.from_table(table, format="ogip-arf")
        if "SPECRESP" not in table.colnames:
            raise KeyError(f"{path}: SPECRESP HDU has no SPECRESP column (columns: {table.colnames})")
        col = table["SPECRESP"]
        unit = col.unit or u.cm**2
        aeff = u.Quantity(np.asarray(col, dtype=np.float64), unit).to_value("cm2")
        exposure = None
        if "EXPOSURE" in table.colnames:
            col = table["EXPOSURE"]
            exposure = u.Quantity(np.asarray(col, dtype=np.float64), col.unit or "cm2 s").to_value("cm2 s")
        return aeff, energy_axis_true, exposure


class OGIPWriter:
    """Write PHA, ARF, RMF and BKG files of a spectrum.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        PHA file; the others are named by `ogip_filenames` in the same folder.
    overwrite : bool
        Replace existing files.
    """

    def __init__(self, filename, overwrite=False):
        self.filename = make_path(filename)
        self.overwrite = overwrite
        names = ogip_filenames(self.filename)
        self.names = names
        folder = self.filename.parent
        self.paths = {"pha": self.filename, **{k: folder / v for k, v in names.items()}}

    def write(self, name, counts, mask_safe, acceptance, livetime, energy_axis,
              aeff, energy_axis_true, edisp=None, counts_off=None, acceptance_off=None, exposure=None,
              gti_hdu=None, region_hdu=None, meta=None):
        """Write all files (each atomically; all are checked before any is written)."""
        hdulists = {
            "pha": self.pha_hdulist(
                name, counts, mask_safe, acceptance, livetime, energy_axis,
                has_rmf=edisp is not None, has_bkg=counts_off is not None,
                gti_hdu=gti_hdu, region_hdu=region_hdu, meta=meta,
            ),
            "arf": self.arf_hdulist(aeff, energy_axis_true, exposure=exposure),
        }
        if edisp is not None:
            hdulists["rmf"] = edisp.to_hdulist(format="ogip")
        if counts_off is not None:
            hdulists["bkg"] = self.pha_hdulist(
                name, counts_off, mask_safe, acceptance_off, livetime, energy_axis,
                has_rmf=edisp is not None, has_bkg=True, is_bkg=True,
                region_hdu=None, meta=meta,
            )
        if not self.overwrite:
            for kind in hdulists:
                if self.paths[kind].exists():
                    raise FileExistsError(
                        f"{self.paths[kind]} already exists: pass overwrite=True to replace it"
                    )
        # companions first, PHA last: a PHA on disk always has its companions
        for kind in ("arf", "rmf", "bkg", "pha"):
            if kind in hdulists:
                with write_atomic(self.paths[kind], overwrite=self.overwrite) as tmp:
                    hdulists[kind].writeto(tmp)
        return self.paths

    def pha_hdulist(self, name, counts, mask_safe, acceptance, livetime, energy_axis,
                    has_rmf=True, has_bkg=True, is_bkg=False, gti_hdu=None,
                    region_hdu=None, meta=None):
        """PHA `~astropy.io.fits.HDUList` (SPECTRUM, EBOUNDS, optional GTI / REGION)."""
        n = energy_axis.nbin
        quality = np.where(np.asarray(mask_safe, dtype=bool).reshape(n), 0, 1).astype(np.int16)
        columns = [
            fits.Column("CHANNEL", "I", array=np.arange(n, dtype=np.int16)),
            fits.Column("COUNTS", "J" if _is_integer(counts) else "D", array=np.asarray(counts).reshape(n)),
            fits.Column("QUALITY", "I", array=quality),
            fits.Column("BACKSCAL", "D", array=np.broadcast_to(acceptance, (n,)).astype(float)),
        ]
        hdu = fits.BinTableHDU.from_columns(columns, name="SPECTRUM")
        header = hdu.header
        meta = dict(meta or {})
        header["TELESCOP"] = meta.get("TELESCOP", "unknown")
        header["INSTRUME"] = meta.get("INSTRUME", "unknown")
        header["FILTER"] = meta.get("FILTER", "None")
        header["EXPOSURE"] = float(livetime)
        header["CORRFILE"] = ""
        header["CORRSCAL"] = ""
        header["ANCRFILE"] = self.names["arf"]
        header["RESPFILE"] = self.names["rmf"] if has_rmf else "none"
        header["BACKFILE"] = self.names["bkg"] if has_bkg else "none"
        header["HDUCLASS"] = "OGIP"
        header["HDUCLAS1"] = "SPECTRUM"
        header["HDUCLAS2"] = "BKG" if is_bkg else "TOTAL"
        header["HDUCLAS3"] = "COUNT"
        header["HDUCLAS4"] = "TYPE:1"
        header["HDUVERS"] = "1.2.1"
        header["POISSERR"] = True
        header["CHANTYPE"] = "PHA"
        header["DETCHANS"] = n
        header["GROUPING"] = 0
        header["AREASCAL"] = 1
        header["OBS_ID"] = str(name)
        hdus = [fits.PrimaryHDU(), hdu, energy_axis.to_table_hdu(format="ogip")]
        if region_hdu is not None:
            hdus.append(region_hdu)
        if gti_hdu is not None:
            hdus.append(gti_hdu)
        return fits.HDUList(hdus)

    @staticmethod
    def arf_hdulist(aeff, energy_axis_true, exposure=None):
        """ARF `~astropy.io.fits.HDUList` (SPECRESP in cm2, energies in TeV).

        ``exposure`` (cm2 s), when given, is stored exactly in an extra
        ``EXPOSURE`` column (see `OGIPReader.read_arf`).
        """
        edges = energy_axis_true.edges.to_value("TeV")
        columns = [
            fits.Column("ENERG_LO", "D", unit="TeV", array=edges[:-1]),
            fits.Column("ENERG_HI", "D", unit="TeV", array=edges[1:]),
            fits.Column("SPECRESP", "D", unit="cm2", array=np.asarray(aeff, dtype=float)),
        ]
        if exposure is not None:
            columns.append(fits.Column("EXPOSURE", "D", unit="cm2 s", array=np.asarray(exposure, dtype=float)))
        hdu = fits.BinTableHDU.from_columns(columns, name="SPECRESP")
        header = hdu.header
        header["TELESCOP"] = "unknown"
        header["INSTRUME"] = "unknown"
        header["HDUCLASS"] = "OGIP"
        header["HDUCLAS1"] = "RESPONSE"
        header["HDUCLAS2"] = "SPECRESP"
        header["HDUVERS"] = "1.1.0"
        return fits.HDUList([fits.PrimaryHDU(), hdu])


def _is_integer(values):
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.integer):
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def gti_to_hdu(gti):
    """GTI BinTableHDU from a GTI object (``.table``) or a `~astropy.table.Table`."""
    if gti is None:
        return None
    if hasattr(gti, "to_table_hdu"):
        return gti.to_table_hdu()
    table = gti.table if hasattr(gti, "table") else gti
    hdu = fits.table_to_hdu(Table(table))
    hdu.name = "GTI"
    return hdu

