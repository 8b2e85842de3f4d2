"""`HDUIndexTable` (GADF HDU index) and `HDULocation`: where each HDU of an observation lives."""
import logging
from pathlib import Path

import numpy as np
from astropy.table import Table

from gammalike.irf.core import open_fits, read_table_hdu, _get_hdu, _reading
from gammalike.utils.paths import make_path

__all__ = ["HDUIndexTable", "HDULocation", "VALID_HDU_TYPES", "VALID_HDU_CLASSES"]

log = logging.getLogger(__name__)

VALID_HDU_TYPES = ("events", "gti", "aeff", "edisp", "psf", "bkg", "rad_max", "pointing")
VALID_HDU_CLASSES = (
    "events", "gti", "aeff_2d", "edisp_2d", "psf_table", "psf_3gauss", "psf_king",
    "bkg_2d", "bkg_3d", "rad_max_2d", "pointing",
)


def _strip(value):
    value = value.decode() if isinstance(value, bytes) else str(value)
    return value.strip()


class HDULocation:
    """Location of one HDU: file and HDU name, with its type and class.

    Parameters
    ----------
    obs_id : int
        Observation ID.
    hdu_type, hdu_class : str
        GADF HDU type ("events", "aeff", ...) and class ("events", "aeff_2d", ...).
    base_dir : `~pathlib.Path`
        Directory the ``file_dir`` is relative to.
    file_dir, file_name, hdu_name : str
        Columns of the HDU index table.
    """

    def __init__(self, obs_id, hdu_type, hdu_class, base_dir, file_dir, file_name, hdu_name):
        self.obs_id = int(obs_id)
        self.hdu_type = hdu_type
        self.hdu_class = hdu_class
        self.base_dir = Path(base_dir)
        self.file_dir = file_dir
        self.file_name = file_name
        self.hdu_name = hdu_name

    def path(self, abs_path=True):
        """Path of the file (``base_dir / file_dir / file_name``)."""
        path = make_path(self.file_dir) / self.file_name
        if abs_path and not path.is_absolute():
            path = self.base_dir / path
        return path

    def _check_file(self):
        path = self.path()
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: file not found (HDU index entry obs_id={self.obs_id}, "
                f"hdu_type={self.hdu_type!r}, hdu_name={self.hdu_name!r})"
            )
        return path

    def get_hdu(self):
        """The HDU object (the whole file is read into memory)."""
        path = self._check_file()
        hdulist = open_fits(path)
        with _reading(path):
            hdu = _get_hdu(hdulist, self.hdu_name, path)
            hdu.data  # noqa: B018 - read now, inside the error conversion
        return hdu

    def load_table(self):
        """The HDU as a `~astropy.table.Table`."""
        return read_table_hdu(self._check_file(), self.hdu_name)

    def load(self):
        """Load the object this HDU holds (`EventList`, `GTI`, an IRF ...)."""
        table = self.load_table()
        if self.hdu_class == "events":
            from .event_list import EventList

            return EventList(table)
        if self.hdu_class == "gti":
            from .gti import GTI

            return GTI(table)
        if self.hdu_class == "pointing":
            from .pointing import PointingInfo

            return PointingInfo(table)
        from gammalike.irf.io import IRF_REGISTRY

        cls = IRF_REGISTRY.get(self.hdu_class)
        if cls is None:
            raise ValueError(
                f"{self.path()}: unknown HDU_CLASS {self.hdu_class!r} for obs_id {self.obs_id} "
                f"(known: {sorted(IRF_REGISTRY)})"
            )
        return cls.from_table(table)

    def __str__(self):
        return (
            f"HDULocation(obs_id={self.obs_id}, hdu_type={self.hdu_type!r}, "
            f"hdu_class={self.hdu_class!r}, file={self.path()}, hdu={self.hdu_name!r})"
        )

    __repr__ = __str__


class HDUIndexTable(Table):
    """HDU index table (GADF): one row per HDU with OBS_ID, HDU_TYPE, HDU_CLASS, FILE_DIR, FILE_NAME, HDU_NAME.

    ``base_dir`` (set on read: the ``BASE_DIR`` keyword, else the folder of
    the index file) is the folder that ``FILE_DIR`` is relative to.
    """

    @classmethod
    def read(cls, filename, **kwargs):
        """Read an HDU index table (``hdu`` defaults to the first table HDU)."""
        path = make_path(filename)
        hdu = kwargs.pop("hdu", 1)
        table = cls(read_table_hdu(path, hdu))
        missing = [c for c in ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME")
                   if c not in table.colnames]
        if missing:
            raise KeyError(f"{path}: HDU index table misses columns {missing}")
        base_dir = table.meta.get("BASE_DIR")
        table.meta["BASE_DIR"] = str(make_path(base_dir) if base_dir else path.parent)
        return table

    @property
    def base_dir(self):
        """Folder the FILE_DIR entries are relative to."""
        return make_path(self.meta.get("BASE_DIR", "."))

    def _index(self):
        """{(obs_id, hdu_type): [row, ...]} built once (cached on the table)."""
        cache = getattr(self, "_row_index_cache", None)
        if cache is not None and cache[0] == len(self):
            return cache[1]
        index = {}
        obs_ids = np.asarray(self["OBS_ID"]).astype(int)
        types = [_strip(v).lower() for v in self["HDU_TYPE"]]
        for row, (obs_id, hdu_type) in enumerate(zip(obs_ids, types)):
            index.setdefault((int(obs_id), hdu_type), []).append(row)
        self._row_index_cache = (len(self), index)
        return index

    def _location(self, row):
        return HDULocation(
            obs_id=int(self["OBS_ID"][row]),
            hdu_type=_strip(self["HDU_TYPE"][row]).lower(),
            hdu_class=_strip(self["HDU_CLASS"][row]).lower(),
            base_dir=self.base_dir,
            file_dir=_strip(self["FILE_DIR"][row]),
            file_name=_strip(self["FILE_NAME"][row]),
            hdu_name=_strip(self["HDU_NAME"][row]),
        )

    def hdu_location(self, obs_id, hdu_type=None, hdu_class=None, warn_missing=True):
        """`HDULocation` of an HDU, or None if the index has no such entry.

        Parameters
        ----------
        obs_id : int
            Observation ID.
        hdu_type : str, optional
            "events", "gti", "aeff", "edisp", "psf", "bkg", "rad_max", "pointing".
        hdu_class : str, optional
            Restrict to one HDU class (e.g. "psf_table").
        warn_missing : bool
            Log a warning when no entry is found.
        """
        if hdu_type is None and hdu_class is None:
            raise ValueError("hdu_location: give hdu_type and / or hdu_class")
        if hdu_type is not None and hdu_type not in VALID_HDU_TYPES:
            raise ValueError(f"hdu_location: invalid hdu_type {hdu_type!r}, expected one of {VALID_HDU_TYPES}")
        index = self._index()
        if hdu_type is not None:
            rows = index.get((int(obs_id), hdu_type), [])
        else:
            rows = [r for (oid, _), rr in index.items() if oid == int(obs_id) for r in rr]
        locations = [self._location(r) for r in rows]
        if hdu_class is not None:
            locations = [loc for loc in locations if loc.hdu_class == hdu_class.lower()]
        if not locations:
            if warn_missing:
                log.warning(f"No HDU found matching: OBS_ID = {obs_id}, HDU_TYPE = {hdu_type}, HDU_CLASS = {hdu_class}")
            return None
        if len(locations) > 1:
            log.warning(f"Found {len(locations)} HDUs for OBS_ID = {obs_id}, HDU_TYPE = {hdu_type}: using the first")
        return locations[0]

    def location_info(self, idx):
        """`HDULocation` of row ``idx``."""
        return self._location(idx)

    @property
    def obs_id_unique(self):
        """Sorted unique observation IDs."""
        return np.unique(np.asarray(self["OBS_ID"]).astype(int))

    @property
    def hdu_type_unique(self):
        """Sorted unique HDU types."""
        return sorted({_strip(v).lower() for v in self["HDU_TYPE"]})

    @property
    def hdu_class_unique(self):
        """Sorted unique HDU classes."""
        return sorted({_strip(v).lower() for v in self["HDU_CLASS"]})

    def summary(self):
        """Short text summary."""
        lines = [
            "HDU index table:",
            f"BASE_DIR: {self.base_dir}",
            f"Rows: {len(self)}",
            f"OBS_ID: {self.obs_id_unique.min() if len(self) else '-'} -- {self.obs_id_unique.max() if len(self) else '-'}",
            f"HDU_TYPE: {self.hdu_type_unique}",
            f"HDU_CLASS: {self.hdu_class_unique}",
        ]
        return "\n".join(lines) + "\n"
