"""`DataStore`: access to a GADF DL3 data set through its HDU and observation index tables."""
import logging
import weakref
from functools import partial

import numpy as np

from gammalike.irf.core import hdu_names, read_header
from gammalike.utils.paths import make_path

from .hdu_index_table import HDUIndexTable, VALID_HDU_CLASSES, VALID_HDU_TYPES
from .obs_table import ObservationTable
from .observations import HDU_NAMES, LazyLoader, Observation, Observations

__all__ = ["DataStore", "MissingHDUError", "REQUIRED_IRFS"]

log = logging.getLogger(__name__)

#: IRFs required by the ``required_irf`` shortcuts of `DataStore.get_observations`
REQUIRED_IRFS = {
    "full-enclosure": ("aeff", "edisp", "psf", "bkg"),
    "point-like": ("aeff", "edisp"),
    "all-optional": (),
}


def _read_header(location):
    return read_header(location._check_file(), location.hdu_name)


class MissingHDUError(ValueError):
    """A required HDU of an observation is not in the HDU index table."""


def _required_list(required_irf):
    if isinstance(required_irf, str):
        if required_irf not in REQUIRED_IRFS:
            raise ValueError(
                f"required_irf: unknown value {required_irf!r}, expected one of "
                f"{list(REQUIRED_IRFS)} or a list of IRF names"
            )
        return list(REQUIRED_IRFS[required_irf])
    required = list(required_irf or [])
    bad = [name for name in required if name not in ("aeff", "edisp", "psf", "bkg", "rad_max")]
    if bad:
        raise ValueError(f"required_irf: unknown IRF names {bad}, expected aeff, edisp, psf, bkg, rad_max")
    return required


class DataStore:
    """IACT DL3 data store: HDU index table (where every HDU is) and observation index table.

    Parameters
    ----------
    hdu_table : `HDUIndexTable`
        HDU index table.
    obs_table : `ObservationTable`, optional
        Observation index table.

    Examples
    --------
    >>> from gammalike.data import DataStore
    >>> data_store = DataStore.from_dir("$GAMMAPY_DATA/hess-dl3-dr1")  # doctest: +SKIP
    >>> observations = data_store.get_observations([23523, 23526])  # doctest: +SKIP
    """

    DEFAULT_HDU_TABLE = "hdu-index.fits.gz"
    DEFAULT_OBS_TABLE = "obs-index.fits.gz"

    def __init__(self, hdu_table=None, obs_table=None):
        if hdu_table is None:
            raise ValueError("DataStore: an HDU index table is required")
        self.hdu_table = hdu_table
        self.obs_table = obs_table
        # IRFs shared between observations (e.g. one CALDB file for all runs) are read once
        # while some observation still uses them
        self._irf_cache = weakref.WeakValueDictionary()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dir(cls, base_dir, hdu_table_filename=None, obs_table_filename=None):
        """Data store from a folder holding the index tables.

        Parameters
        ----------
        base_dir : str or `~pathlib.Path`
            Folder (``$GAMMAPY_DATA`` style variables are expanded).
        hdu_table_filename, obs_table_filename : str, optional
            Index file names, relative to ``base_dir`` (default
            ``hdu-index.fits.gz`` / ``obs-index.fits.gz``). The observation index
            is optional when the default name is missing.
        """
        base_dir = make_path(base_dir)
        if not base_dir.is_dir():
            raise FileNotFoundError(f"{base_dir}: data store folder not found")
        hdu_path = base_dir / (hdu_table_filename or cls.DEFAULT_HDU_TABLE)
        if not hdu_path.is_file():
            raise FileNotFoundError(f"{hdu_path}: HDU index table not found")
        hdu_table = HDUIndexTable.read(hdu_path)
        obs_path = base_dir / (obs_table_filename or cls.DEFAULT_OBS_TABLE)
        obs_table = None
        if obs_path.is_file():
            obs_table = ObservationTable.read(obs_path)
        elif obs_table_filename is not None:
            raise FileNotFoundError(f"{obs_path}: observation index table not found")
        else:
            log.info(f"{obs_path}: no observation index table, continuing without")
        return cls(hdu_table=hdu_table, obs_table=obs_table)

    @classmethod
    def from_file(cls, filename, hdu_hdu="HDU_INDEX", hdu_obs="OBS_INDEX"):
        """Data store from one FITS file holding both index tables."""
        path = make_path(filename)
        names = hdu_names(path)
        hdu_table = HDUIndexTable.read(path, hdu=hdu_hdu)
        obs_table = ObservationTable.read(path, hdu=hdu_obs) if hdu_obs in names else None
        return cls(hdu_table=hdu_table, obs_table=obs_table)

    # ------------------------------------------------------------------ info
    @property
    def obs_ids(self):
        """Observation IDs (from the observation table, else the HDU table)."""
        if self.obs_table is not None:
            return [int(i) for i in self.obs_table.obs_id]
        return [int(i) for i in self.hdu_table.obs_id_unique]

    def info(self, show=True):
        """Summary of the data store (printed if ``show``, else returned)."""
        text = str(self)
        if not show:
            return text
        print(text)  # noqa: T201 - explicit user request

    def __str__(self):
        lines = ["Data store:", self.hdu_table.summary()]
        if self.obs_table is not None:
            lines.append(self.obs_table.summary())
        else:
            lines.append("No observation index table.")
        return "\n".join(lines)

    def __repr__(self):
        return f"DataStore(base_dir={str(self.hdu_table.base_dir)!r}, n_obs={len(self.obs_ids)})"

    # ------------------------------------------------------------------ observations
    def _load_location(self, location):
        """Load an HDU, sharing IRFs that several observations read from the same file."""
        if location.hdu_type in ("events", "gti", "pointing"):
            return location.load()
        key = (str(location.path()), location.hdu_name, location.hdu_class)
        value = self._irf_cache.get(key)
        if value is None:
            value = location.load()
            try:
                self._irf_cache[key] = value
            except TypeError:
                pass
        return value

    def __getstate__(self):
        # the weak IRF cache cannot be pickled (observations are sent to worker processes)
        state = dict(self.__dict__)
        state["_irf_cache"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._irf_cache = weakref.WeakValueDictionary()

    def obs(self, obs_id, required_irf="full-enclosure", require_events=True):
        """One `Observation` (components load lazily on first access).

        Raises
        ------
        ValueError
            If ``obs_id`` is not in the data store.
        MissingHDUError
            If a required HDU is not in the HDU index.
        FileNotFoundError
            If the file of a required HDU does not exist.
        """
        obs_id = int(obs_id)
        index = self.hdu_table._index()
        available = {hdu_type for (oid, hdu_type) in index if oid == obs_id}
        if not available:
            raise ValueError(
                f"obs_id {obs_id} not found in the data store {self.hdu_table.base_dir} "
                f"(HDU index has {len(self.hdu_table.obs_id_unique)} observations)"
            )
        required = _required_list(required_irf) + (["events"] if require_events else [])
        missing = [name for name in required if name not in available]
        if missing:
            raise MissingHDUError(
                f"obs_id {obs_id}: required HDU(s) {missing} missing from the HDU index "
                f"(available: {sorted(available)})"
            )
        values = {}
        for name in HDU_NAMES:
            if name not in available:
                continue
            location = self.hdu_table.hdu_location(obs_id, name, warn_missing=False)
            if name in required:
                location._check_file()
            values[name] = LazyLoader(partial(self._load_location, location), description=str(location))
        meta = None
        if "events" in available:
            events_location = self.hdu_table.hdu_location(obs_id, "events", warn_missing=False)
            meta = LazyLoader(partial(_read_header, events_location), description=f"header {events_location}")
        elif self.obs_table is not None:
            meta = self._meta_from_obs_table(obs_id)
        return Observation(obs_id=obs_id, meta=meta, **values)

    def _meta_from_obs_table(self, obs_id):
        try:
            row = self.obs_table.select_obs_id(obs_id)[0]
        except ValueError:
            return {}
        meta = {name: row[name] for name in row.colnames if np.ndim(row[name]) == 0}
        meta.update({k: v for k, v in self.obs_table.meta.items() if k.startswith(("MJDREF", "TIME", "GEO", "ALTITUDE"))})
        return meta

    def get_observations(self, obs_id=None, skip_missing=False, required_irf="full-enclosure",
                         require_events=True):
        """`Observations` for a list of IDs (all observations by default).

        Parameters
        ----------
        obs_id : list of int, optional
            Observation IDs (default: all in the observation table).
        skip_missing : bool
            Skip (with a logged warning) observations that are not in the store,
            miss a required HDU or whose required files do not exist, instead of
            raising.
        required_irf : {"full-enclosure", "point-like", "all-optional"} or list of str
            IRFs every observation must have ("full-enclosure": aeff, edisp, psf,
            bkg; "point-like": aeff, edisp; or a list such as ["aeff", "edisp"]).
        require_events : bool
            Events must be present.
        """
        obs_ids = self.obs_ids if obs_id is None else [int(i) for i in np.atleast_1d(obs_id)]
        observations = []
        for oid in obs_ids:
            try:
                observations.append(self.obs(oid, required_irf=required_irf, require_events=require_events))
            except (ValueError, FileNotFoundError) as exc:
                if not skip_missing:
                    raise
                log.warning(f"Skipping observation {oid}: {exc}")
        return Observations(observations)

    # ------------------------------------------------------------------ checks
    def check(self, checks="all"):
        """Yield problems found in the data store (dicts with ``level``, ``obs_id``, ``msg``).

        Parameters
        ----------
        checks : "all" or list of {"obs_table", "hdu_table", "observations"}
            What to check ("observations" reads every observation: slowest).
        """
        if checks == "all":
            checks = ["obs_table", "hdu_table", "observations"]
        checks = list(checks)
        if "obs_table" in checks:
            yield from self._check_obs_table()
        if "hdu_table" in checks:
            yield from self._check_hdu_table()
        if "observations" in checks:
            for oid in self.obs_ids:
                try:
                    obs = self.obs(oid, required_irf="all-optional")
                except (ValueError, FileNotFoundError) as exc:
                    yield dict(level="error", obs_id=oid, msg=str(exc))
                    continue
                yield from obs.check()

    def _check_obs_table(self):
        if self.obs_table is None:
            yield dict(level="info", obs_id=None, msg="No observation index table")
            return
        for name in ("OBS_ID", "RA_PNT", "DEC_PNT", "TSTART", "TSTOP"):
            if name not in self.obs_table.colnames:
                yield dict(level="warning", obs_id=None, msg=f"Observation table: missing column {name}")
        ids = self.obs_table.obs_id
        unique, counts = np.unique(ids, return_counts=True)
        for oid in unique[counts > 1]:
            yield dict(level="error", obs_id=int(oid), msg="Observation table: duplicate OBS_ID")
        hdu_ids = set(int(i) for i in self.hdu_table.obs_id_unique)
        for oid in ids:
            if int(oid) not in hdu_ids:
                yield dict(level="error", obs_id=int(oid), msg="OBS_ID of the observation table not in the HDU table")

    def _check_hdu_table(self):
        table = self.hdu_table
        seen_files = {}
        for row in range(len(table)):
            loc = table.location_info(row)
            if loc.hdu_type not in VALID_HDU_TYPES:
                yield dict(level="warning", obs_id=loc.obs_id, msg=f"Invalid HDU_TYPE {loc.hdu_type!r}")
            if loc.hdu_class not in VALID_HDU_CLASSES:
                yield dict(level="warning", obs_id=loc.obs_id, msg=f"Invalid HDU_CLASS {loc.hdu_class!r}")
            path = loc.path()
            exists = seen_files.get(path)
            if exists is None:
                exists = seen_files[path] = path.is_file()
            if not exists:
                yield dict(level="error", obs_id=loc.obs_id, msg=f"{path}: file not found ({loc.hdu_type})")
        for oid in table.obs_id_unique:
            if table.hdu_location(oid, "events", warn_missing=False) is None:
                yield dict(level="warning", obs_id=int(oid), msg="No events HDU")
