"""`MapDatasetEventSampler`: draw an event list from a `MapDataset` and its models.

For each sky model the expected counts per true-energy bin ``i`` and pixel
``p`` *before* PSF and energy dispersion are::

    W_ip = flux_i * exposure_ip * fraction_p

(``flux_i`` the spectral integral over the bin, ``fraction_p`` the model's
flux fraction in the pixel), exactly the quantities `MapEvaluator` feeds to
the PSF convolution and the energy-dispersion matrix. The sampler draws
``N ~ Poisson(sum W)`` events, picks a cell (i, p) for each with
probability ``W_ip / sum W`` and then

* a true energy inside bin ``i``: the bin is split into
  ``oversample_energy_factor`` log sub-bins weighted by the spectral integral
  times the (log-interpolated) exposure, and inside a sub-bin the energy
  follows the local power law of the model;
* a true position: the model position for a point source, else uniform
  inside pixel ``p``;
* a reconstructed position: offset from the true one by a radius drawn by
  inverse CDF from the PSF containment at the event's true energy (PSF taken
  at the model position, as in the evaluator) and a uniform position angle;
* a reconstructed-energy bin from row ``i`` of the energy-dispersion matrix
  at the model position (events migrating out of the reco axis are dropped),
  and an energy inside the bin following the local power law of the model's
  predicted reco spectrum.

Binned back into the dataset geometry the events therefore reproduce
``npred`` up to Poisson fluctuations. Background events are drawn from
``dataset.npred_background()`` (cells, uniform inside pixels, local power law
inside reco bins). Times are uniform in the GTI, or follow a sky model's
temporal model on a grid of step ``t_delta``: the temporal model only shapes
the light curve, the number of events is set by ``npred`` (the dataset's
evaluator ignores temporal models).
"""
import logging

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import TimeDelta

from ..data import EventList
from ..data.gti import time_ref_to_meta
from ..utils.random import get_random_state
from ..irf.edisp_kernel import edisp_matrix_at
from .evaluator import spatial_fractions, spectral_flux
from .map import _is_sky_model

__all__ = ["MapDatasetEventSampler"]

log = logging.getLogger(__name__)

_EXPOSURE_UNIT = u.Unit("cm2 s")
_DEG = np.pi / 180.0
#: events handled at once in the PSF sampling (bounds the (n_events, n_rad) work arrays)
_CHUNK = 100_000
#: at most this many time bins when sampling a temporal model
_MAX_TIME_BINS = 2_000_000


# ----------------------------------------------------------------------------- sampling helpers
#: more events than this from one component is a unit or normalisation mistake, not a simulation
MAX_EVENTS = 1e8


def _check_npred(mu, what):
    if not np.isfinite(mu) or mu > MAX_EVENTS:
        raise ValueError(
            f"MapDatasetEventSampler: {what} predicts {mu:.3g} events (at most {MAX_EVENTS:.0e}): "
            "check its normalisation and units"
        )


def _sample_cells(rng, weights, n):
    """Flat indices of ``n`` cells drawn with probability proportional to ``weights`` (>= 0)."""
    cdf = np.cumsum(weights.ravel())
    total = cdf[-1]
    idx = np.searchsorted(cdf, rng.uniform(size=n) * total, side="right")
    return np.minimum(idx, cdf.size - 1)


def _sample_rows(rng, cum, rows):
    """Column drawn from row ``rows[k]`` of the cumulative table ``cum`` (rows sum to <= 1).

    Returns ``n_columns`` where the draw falls beyond the row total (e.g. an
    event migrating out of the reco axis). Vectorized with one searchsorted
    on the rows laid end to end (row ``r`` shifted by ``r``).
    """
    n_rows, n_cols = cum.shape
    cum = np.clip(cum, 0.0, 1.0)
    flat = (cum + np.arange(n_rows)[:, None]).ravel()
    target = rows + rng.uniform(size=rows.size)
    idx = np.searchsorted(flat, target, side="right")
    col = idx - rows * n_cols
    return np.clip(col, 0, n_cols)


def _sample_powerlaw(rng, lo, hi, index):
    """Draws from ``dN/dE ~ E^-index`` on [lo, hi] (arrays, element-wise)."""
    lo, hi, index = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lo, hi, index)))
    q = rng.uniform(size=lo.shape)
    g = 1.0 - index
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        general = (lo ** g + q * (hi ** g - lo ** g)) ** (1.0 / np.where(g == 0, 1.0, g))
    logarithmic = lo * (hi / lo) ** q
    value = np.where(np.abs(g) < 1e-6, logarithmic, general)
    value = np.where(np.isfinite(value), value, logarithmic)
    return np.clip(value, lo, hi)


def _local_index(counts, edges):
    """Local power-law index of a binned spectrum (``counts`` per bin, energy ``edges``).

    The slope of ``log(counts / width)`` vs ``log(energy)`` averaged over the
    neighbouring bins with counts; 1 (log-uniform) where no neighbour has counts.
    """
    counts = np.asarray(counts, dtype=float)
    centre = np.sqrt(edges[:-1] * edges[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_dnde = np.log(counts / np.diff(edges))
        slope = -np.diff(log_dnde) / np.diff(np.log(centre))
    ok = np.isfinite(slope)
    slope = np.where(ok, slope, 0.0)
    total = np.zeros(counts.size)
    number = np.zeros(counts.size)
    total[:-1] += slope
    number[:-1] += ok
    total[1:] += slope
    number[1:] += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(number > 0, total / number, 1.0)
    return np.clip(index, -5.0, 10.0)


def _offset_by(lon, lat, pa, rad):
    """Positions (deg) at angular distance ``rad`` (deg) and position angle ``pa`` (rad, east of north)."""
    lon, lat, rad = lon * _DEG, lat * _DEG, rad * _DEG
    sin_lat = np.sin(lat) * np.cos(rad) + np.cos(lat) * np.sin(rad) * np.cos(pa)
    lat2 = np.arcsin(np.clip(sin_lat, -1.0, 1.0))
    dlon = np.arctan2(np.sin(pa) * np.sin(rad) * np.cos(lat), np.cos(rad) - np.sin(lat) * sin_lat)
    return np.mod((lon + dlon) / _DEG, 360.0), lat2 / _DEG


def _pixel_positions(rng, geom, flat_pix):
    """Lon / lat (deg, geom frame) uniform inside the pixels of flat image index ``flat_pix``."""
    nx = geom.data_shape[-1]
    iy, ix = np.divmod(flat_pix, nx)
    x = ix + rng.uniform(-0.5, 0.5, size=ix.size)
    y = iy + rng.uniform(-0.5, 0.5, size=iy.size)
    lon, lat = geom.wcs.wcs_pix2world(x, y, 0)
    return np.mod(np.asarray(lon, dtype=float), 360.0), np.asarray(lat, dtype=float)


def _to_icrs(lon, lat, frame):
    if frame == "icrs" or lon.size == 0:
        return lon, lat
    coord = SkyCoord(lon, lat, unit="deg", frame=frame).icrs
    return coord.ra.deg, coord.dec.deg


# ----------------------------------------------------------------------------- sampler
class MapDatasetEventSampler:
    """Draw event lists from a `~gammalike.datasets.MapDataset` and its models.

    Parameters
    ----------
    random_state : int, `~numpy.random.Generator` or "random-seed"
        Seed or generator (see `~gammalike.utils.random.get_random_state`);
        the generator is created once, so successive `run` calls give
        different realisations.
    oversample_energy_factor : int
        Log sub-bins per true-energy bin used to place the true energies.
    t_delta : `~astropy.units.Quantity`
        Time step of the grid on which temporal models are sampled.

    Examples
    --------
    >>> sampler = MapDatasetEventSampler(random_state=0)  # doctest: +SKIP
    >>> events = sampler.run(dataset, observation)  # doctest: +SKIP
    >>> events.write("events.fits.gz")  # doctest: +SKIP
    """

    def __init__(self, random_state=0, oversample_energy_factor=10, t_delta=0.5 * u.s):
        self.random_state = get_random_state(random_state)
        factor = int(oversample_energy_factor)
        if factor < 1:
            raise ValueError(
                f"MapDatasetEventSampler: oversample_energy_factor must be >= 1, got {oversample_energy_factor}"
            )
        self.oversample_energy_factor = factor
        t_delta = u.Quantity(t_delta, "s")
        if not t_delta.value > 0:
            raise ValueError(f"MapDatasetEventSampler: t_delta must be > 0, got {t_delta}")
        self.t_delta = t_delta

    # ------------------------------------------------------------------ sources
    def _true_energy(self, rng, model, energy_edges, exposure_spectrum, bins):
        """True energies (TeV) inside the true-energy bins ``bins`` (see the module docstring)."""
        k = self.oversample_energy_factor
        lo, hi = energy_edges[:-1], energy_edges[1:]
        # (n_true, k + 1) sub-bin edges, log spaced inside each bin
        frac = np.linspace(0.0, 1.0, k + 1)
        sub = lo[:, None] * (hi / lo)[:, None] ** frac[None, :]
        sub_lo, sub_hi = sub[:, :-1], sub[:, 1:]
        flux = spectral_flux(model.spectral_model, sub_lo.ravel(), sub_hi.ravel()).reshape(sub_lo.shape)
        centre = np.sqrt(lo * hi)
        log_sub = np.log(np.sqrt(sub_lo * sub_hi))
        exposure = np.interp(log_sub.ravel(), np.log(centre), exposure_spectrum).reshape(sub_lo.shape)
        weights = np.clip(flux * exposure, 0.0, None)
        total = weights.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            # bins without exposure are never drawn; their sub-bins get equal weights
            weights = np.where(total > 0, weights / total, 1.0 / k)
        column = np.minimum(_sample_rows(rng, np.cumsum(weights, axis=1), bins), k - 1)
        e_lo, e_hi = sub_lo[bins, column], sub_hi[bins, column]
        # local power law of the model inside the sub-bin
        with np.errstate(invalid="ignore", divide="ignore"):
            d_lo = np.asarray(model.spectral_model.dnde_float(e_lo), dtype=float)
            d_hi = np.asarray(model.spectral_model.dnde_float(e_hi), dtype=float)
            index = -np.log(d_hi / d_lo) / np.log(e_hi / e_lo)
        index = np.where(np.isfinite(index), np.clip(index, -10, 20), 1.0)
        return _sample_powerlaw(rng, e_lo, e_hi, index)

    def _model_position(self, model, geom):
        """(lon, lat) of the model in the geometry frame, or None."""
        spatial = model.spatial_model
        if spatial is None or getattr(spatial, "position", None) is None:
            return None
        coord = spatial.position.transform_to(geom.frame)
        return float(coord.spherical.lon.deg), float(coord.spherical.lat.deg)

    def _sample_psf(self, rng, psf, energy, lon, lat, position):
        """Positions smeared by the PSF taken at ``position`` (`SkyCoord`)."""
        n = energy.size
        rad = np.empty(n)
        rad_max = float(np.max(psf.rad_axis.center.to_value("deg")))
        for start in range(0, n, _CHUNK):
            e = u.Quantity(energy[start:start + _CHUNK], "TeV")
            # the PSF table may not reach full containment: sample the normalised profile
            total = np.asarray(psf.containment(rad_max * u.deg, e, position=position).value)
            fraction = rng.uniform(size=e.size) * total
            rad[start:start + _CHUNK] = psf.containment_radius(fraction, e, position=position).deg
        pa = rng.uniform(0.0, 2 * np.pi, size=n)
        return _offset_by(lon, lat, pa, rad)

    def sample_sources(self, dataset):
        """Events of the dataset's sky models (a `~astropy.table.Table`, no TIME column yet).

        Columns RA, DEC, ENERGY, RA_TRUE, DEC_TRUE, ENERGY_TRUE, MC_ID (the
        1-based position of the model in ``dataset.models``).
        """
        rng = self.random_state
        tables = []
        if dataset.models is None or dataset.exposure is None:
            return _empty_table()
        geom = dataset.exposure.geom
        image = geom.to_image()
        frame = geom.frame
        energy_axis_true = geom.axes["energy_true"]
        true_edges = energy_axis_true.edges.to_value("TeV")
        energy_axis = dataset._geom.axes["energy"]
        reco_edges = energy_axis.edges.to_value("TeV")
        exposure = np.nan_to_num(np.asarray(dataset.exposure.data, dtype=float))
        exposure = exposure * u.Unit(dataset.exposure.unit).to(_EXPOSURE_UNIT)
        for mc_id, model in enumerate(dataset.models, start=1):
            if not _is_sky_model(model):
                continue
            fractions = np.asarray(spatial_fractions(model.spatial_model, geom), dtype=float)
            flux = spectral_flux(model.spectral_model, true_edges[:-1], true_edges[1:])
            weights = np.clip(flux[:, None, None] * exposure * fractions, 0.0, None)
            weights = np.nan_to_num(weights)
            mu = float(weights.sum())
            _check_npred(mu, f"model {model.name!r}")
            n = rng.poisson(mu) if mu > 0 else 0
            log.debug(f"MapDatasetEventSampler: model {model.name!r}: npred (true) = {mu:.1f}, drawn {n}")
            if n == 0:
                continue
            cells = _sample_cells(rng, weights, n)
            bins, flat_pix = np.divmod(cells, image.data_shape[-1] * image.data_shape[-2])
            per_bin = weights.reshape(weights.shape[0], -1).sum(axis=1)
            exposure_spectrum = (exposure * fractions).reshape(exposure.shape[0], -1).sum(axis=1)
            energy_true = self._true_energy(rng, model, true_edges, exposure_spectrum, bins)

            lonlat = self._model_position(model, geom)
            if lonlat is not None and type(model.spatial_model).__name__ == "PointSpatialModel":
                lon_true, lat_true = np.full(n, lonlat[0]), np.full(n, lonlat[1])
            else:
                lon_true, lat_true = _pixel_positions(rng, image, flat_pix)
            position = (SkyCoord(lonlat[0], lonlat[1], unit="deg", frame=frame) if lonlat is not None
                        else geom.center_skydir)

            if dataset.psf is not None:
                lon, lat = self._sample_psf(rng, dataset.psf, energy_true, lon_true, lat_true, position)
            else:
                lon, lat = lon_true, lat_true

            if dataset.edisp is None and true_edges.size == reco_edges.size and np.allclose(
                    true_edges, reco_edges, rtol=1e-6):
                energy = energy_true.copy()
                keep = np.ones(n, dtype=bool)
            else:
                pdf = edisp_matrix_at(dataset.edisp, position, energy_axis, energy_axis_true)
                pdf = np.clip(np.nan_to_num(pdf), 0.0, None)
                row_sum = pdf.sum(axis=1, keepdims=True)
                pdf = np.where(row_sum > 1, pdf / np.where(row_sum > 0, row_sum, 1), pdf)
                reco_bin = _sample_rows(rng, np.cumsum(pdf, axis=1), bins)
                keep = reco_bin < pdf.shape[1]
                reco_bin = reco_bin[keep]
                index = _local_index(per_bin @ pdf, reco_edges)
                energy = np.full(n, np.nan)
                energy[keep] = _sample_powerlaw(
                    rng, reco_edges[reco_bin], reco_edges[reco_bin + 1], index[reco_bin]
                )
            ra, dec = _to_icrs(lon[keep], lat[keep], frame)
            ra_true, dec_true = _to_icrs(lon_true[keep], lat_true[keep], frame)
            tables.append(_event_table(ra, dec, energy[keep], ra_true, dec_true, energy_true[keep], mc_id))
        if not tables:
            return _empty_table()
        return _vstack(tables)

    # ------------------------------------------------------------------ background
    def sample_background(self, dataset):
        """Events of the predicted background (`~astropy.table.Table` with MC_ID 0, no TIME yet)."""
        rng = self.random_state
        if dataset.background is None:
            return _empty_table()
        npred = np.clip(np.nan_to_num(np.asarray(dataset.npred_background().data, dtype=float)), 0.0, None)
        mu = float(npred.sum())
        _check_npred(mu, "background")
        n = rng.poisson(mu) if mu > 0 else 0
        log.debug(f"MapDatasetEventSampler: background npred = {mu:.1f}, drawn {n}")
        if n == 0:
            return _empty_table()
        geom = dataset._geom
        image = geom.to_image()
        edges = geom.axes["energy"].edges.to_value("TeV")
        cells = _sample_cells(rng, npred, n)
        bins, flat_pix = np.divmod(cells, image.data_shape[-1] * image.data_shape[-2])
        index = _local_index(npred.reshape(npred.shape[0], -1).sum(axis=1), edges)
        energy = _sample_powerlaw(rng, edges[bins], edges[bins + 1], index[bins])
        lon, lat = _pixel_positions(rng, image, flat_pix)
        ra, dec = _to_icrs(lon, lat, geom.frame)
        return _event_table(ra, dec, energy, ra, dec, energy, 0)

    # ------------------------------------------------------------------ times
    def _gti_and_meta(self, dataset, observation):
        if observation is not None:
            gti = observation.gti
            meta = dict(observation.meta or {})
            meta.setdefault("OBS_ID", observation.obs_id)
            try:
                pointing = observation.get_pointing_icrs(observation.tmid)
                meta.update(RA_PNT=float(pointing.ra.deg), DEC_PNT=float(pointing.dec.deg))
            except Exception as exc:  # pointing is optional metadata for a simulation
                log.debug(f"MapDatasetEventSampler: no pointing position ({exc})")
        else:
            gti = dataset.gti
            meta = {}
            livetime = dataset.livetime
            if np.isfinite(livetime.value):
                meta["LIVETIME"] = float(livetime.to_value("s"))
        if gti is None or len(gti) == 0:
            raise ValueError(
                f"MapDatasetEventSampler: dataset {dataset.name!r} has no good time interval: "
                "pass an observation (e.g. Observation.create(pointing, livetime=...))"
            )
        return gti, meta

    def sample_time(self, n, gti, temporal_model=None):
        """``n`` event times (seconds since ``gti.time_ref``) inside the GTI.

        Uniform without ``temporal_model``, else proportional to the model on
        a grid of step `t_delta` (uniform inside a grid step).
        """
        rng = self.random_state
        start = gti.met_start.to_value("s")
        stop = gti.met_stop.to_value("s")
        length = np.clip(stop - start, 0.0, None)
        if n == 0:
            return np.zeros(0)
        if length.sum() <= 0:
            raise ValueError("MapDatasetEventSampler: the GTI has zero total length")
        if temporal_model is None:
            interval = _sample_cells(rng, length, n)
            return start[interval] + rng.uniform(size=n) * length[interval]
        step = self.t_delta.to_value("s")
        if length.sum() / step > _MAX_TIME_BINS:
            step = length.sum() / _MAX_TIME_BINS
            log.info(f"MapDatasetEventSampler: temporal model sampled with a coarser step of {step:.3g} s")
        nbins = np.maximum(np.ceil(length / step).astype(int), 1)
        first = np.repeat(start, nbins)
        offset = np.arange(nbins.sum()) - np.repeat(np.cumsum(nbins) - nbins, nbins)
        lo = first + offset * step
        hi = np.minimum(lo + step, np.repeat(stop, nbins))
        mjd = (gti.time_ref + TimeDelta(0.5 * (lo + hi), format="sec")).utc.mjd
        values = np.clip(np.nan_to_num(np.asarray(temporal_model(mjd), dtype=float)), 0.0, None)
        weights = values * (hi - lo)
        if not weights.sum() > 0:
            raise ValueError(
                f"MapDatasetEventSampler: temporal model {type(temporal_model).__name__} is zero in the GTI"
            )
        cell = _sample_cells(rng, weights, n)
        return lo[cell] + rng.uniform(size=n) * (hi[cell] - lo[cell])

    # ------------------------------------------------------------------ run
    def event_list_meta(self, dataset, observation=None):
        """EVENTS header keywords (GADF) for the simulated events."""
        gti, meta_obs = self._gti_and_meta(dataset, observation)
        meta = {
            "HDUCLASS": "GADF",
            "HDUDOC": "https://github.com/open-gamma-ray-astro/gamma-astro-data-formats",
            "HDUVERS": "0.3",
            "HDUCLAS1": "EVENTS",
            "OBS_ID": 0,
        }
        for key in ("OBS_ID", "TELESCOP", "INSTRUME", "OBJECT", "RA_PNT", "DEC_PNT", "ALT_PNT", "AZ_PNT",
                    "RA_OBJ", "DEC_OBJ", "GEOLON", "GEOLAT", "ALTITUDE", "DEADC", "ONTIME", "LIVETIME"):
            if key in meta_obs and meta_obs[key] is not None:
                meta[key] = meta_obs[key]
        meta.update(time_ref_to_meta(gti.time_ref))
        start, stop = gti.met_start.to_value("s"), gti.met_stop.to_value("s")
        meta["TSTART"] = float(start.min())
        meta["TSTOP"] = float(stop.max())
        meta.setdefault("ONTIME", float(np.sum(stop - start)))
        meta.setdefault("LIVETIME", meta["ONTIME"])
        meta.setdefault("DEADC", meta["LIVETIME"] / meta["ONTIME"] if meta["ONTIME"] > 0 else 1.0)
        meta.update(OBS_MODE="POINTING", EQUINOX=2000.0, RADECSYS="ICRS", CREATOR="gammalike MapDatasetEventSampler")
        if "RA_PNT" in meta:
            meta["RA_PNT"], meta["DEC_PNT"] = float(meta["RA_PNT"]), float(meta["DEC_PNT"])
        # which model each MC_ID stands for
        meta["MID00000"] = "background"
        for mc_id, model in enumerate(dataset.models or [], start=1):
            if _is_sky_model(model):
                meta[f"MID{mc_id:05d}"] = model.name
        # plain Python scalars in the header (numpy scalars come from the observation meta)
        meta = {key: value.item() if isinstance(value, np.generic) else value for key, value in meta.items()}
        return meta, gti

    def run(self, dataset, observation=None):
        """Simulate the events of one observation.

        Parameters
        ----------
        dataset : `~gammalike.datasets.MapDataset`
            Dataset with exposure, background, PSF and energy dispersion maps
            and its models (sky models and optionally a `FoVBackgroundModel`).
        observation : `~gammalike.data.Observation`, optional
            Observation providing the GTI, the pointing and the header
            keywords (default: the dataset's GTI).

        Returns
        -------
        events : `~gammalike.data.EventList`
            Events sorted by time with columns EVENT_ID, TIME, RA, DEC, ENERGY,
            MC_ID (0 background, else the 1-based position of the model in
            ``dataset.models``) and the true values RA_TRUE, DEC_TRUE,
            ENERGY_TRUE; the GADF EVENTS header keywords in ``events.table.meta``
            and the GTI in ``events.gti``.
        """
        meta, gti = self.event_list_meta(dataset, observation)
        sources = self.sample_sources(dataset)
        background = self.sample_background(dataset)
        table = _vstack([background, sources])
        # times: per model (its temporal model) and uniform for the background
        time = np.zeros(len(table))
        mc_id = np.asarray(table["MC_ID"])
        models = list(dataset.models or [])
        for value in np.unique(mc_id):
            sel = mc_id == value
            temporal = None
            if value > 0:
                temporal = getattr(models[value - 1], "temporal_model", None)
            time[sel] = self.sample_time(int(sel.sum()), gti, temporal)
        table["TIME"] = u.Quantity(time, "s")
        order = np.argsort(time, kind="stable")
        table = table[order]
        table["EVENT_ID"] = np.arange(1, len(table) + 1, dtype=np.int64)
        names = ["EVENT_ID", "TIME", "RA", "DEC", "ENERGY", "MC_ID", "RA_TRUE", "DEC_TRUE", "ENERGY_TRUE"]
        table = table[names]
        table.meta.update(meta)
        table.meta["EXTNAME"] = "EVENTS"
        return EventList(table, gti=gti)


# ----------------------------------------------------------------------------- tables
def _event_table(ra, dec, energy, ra_true, dec_true, energy_true, mc_id):
    table = Table()
    table["RA"] = u.Quantity(np.asarray(ra, dtype=float), "deg")
    table["DEC"] = u.Quantity(np.asarray(dec, dtype=float), "deg")
    table["ENERGY"] = u.Quantity(np.asarray(energy, dtype=float), "TeV")
    table["MC_ID"] = np.full(len(table), mc_id, dtype=np.int32)
    table["RA_TRUE"] = u.Quantity(np.asarray(ra_true, dtype=float), "deg")
    table["DEC_TRUE"] = u.Quantity(np.asarray(dec_true, dtype=float), "deg")
    table["ENERGY_TRUE"] = u.Quantity(np.asarray(energy_true, dtype=float), "TeV")
    return table


def _empty_table():
    empty = np.zeros(0)
    return _event_table(empty, empty, empty, empty, empty, empty, 0)


def _vstack(tables):
    """Concatenate event tables column by column (same columns and units)."""
    tables = [t for t in tables if t is not None]
    out = Table()
    for name in tables[0].colnames:
        col = tables[0][name]
        values = np.concatenate([np.asarray(t[name]) for t in tables])
        out[name] = u.Quantity(values, col.unit) if col.unit is not None else values.astype(col.dtype)
    return out
