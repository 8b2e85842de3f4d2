"""`MapDatasetMaker`: counts, exposure, background, PSF and energy-dispersion maps of an observation.

Everything is computed on float64 arrays in fixed units (TeV, deg, s) and
turned into `Map` objects at the end:

- counts: event positions -> pixel indices through the WCS, energies -> bin
  indices, one `numpy.bincount`;
- exposure: effective area at each pixel's offset times the livetime.  The
  effective area is evaluated once per true energy at the offset nodes of the
  IRF and interpolated linearly in offset per pixel, which is the same
  multilinear interpolation as a direct evaluation (it is separable) at a
  fraction of the cost;
- background: the rate integrated over each reco-energy bin (closed-form
  power law between the bin edges, or between ``background_oversampling``
  sub-edges), times the pixel solid angle and the observation time.  A
  `~gammalike.irf.Background3D` is evaluated in field-of-view coordinates
  aligned as its ``fov_alignment`` says; for ALTAZ the RA/Dec offsets are
  rotated by the angle between the two offset frames at the pointing, averaged
  over time slices when the field rotates by more than
  ``fov_rotation_error_limit`` during the observation;
- PSF and energy dispersion on the coarse IRF grid of the dataset (the grid
  `MapDataset.create` made with ``binsz_irf``), with their exposure maps for
  stacking.
"""
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord

from ..irf.core import NodeAxis
from ..maps import Map
from .core import Maker
from .utils import fov_coordinates, make_observation_meta_table

__all__ = ["MapDatasetMaker"]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- geometry helpers
_ROTATIONS = {}


def _rotation_to_icrs(frame):
    """3x3 matrix turning unit vectors of ``frame`` into ICRS ones (from astropy, computed once).

    The galactic <-> ICRS transformation is a fixed rotation; applying the
    matrix to many positions is much cheaper than a `SkyCoord` transform.
    """
    if frame not in _ROTATIONS:
        # images of the unit vectors x, y, z of ``frame``: the matrix columns
        basis = SkyCoord([0.0, 90.0, 0.0], [0.0, 0.0, 90.0], unit="deg", frame=frame).icrs
        cart = basis.cartesian
        _ROTATIONS[frame] = np.stack([cart.x.value, cart.y.value, cart.z.value])
    return _ROTATIONS[frame]


def _lonlat_to_frame(lon, lat, frame_in, frame_out):
    """Convert positions (deg) between "icrs" and "galactic" with a fixed rotation matrix."""
    if frame_in == frame_out:
        return np.asarray(lon, float), np.asarray(lat, float)
    lon, lat = np.radians(lon), np.radians(lat)
    vec = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    if frame_out == "icrs":
        matrix = _rotation_to_icrs(frame_in)
    elif frame_in == "icrs":
        matrix = _rotation_to_icrs(frame_out).T
    else:
        matrix = _rotation_to_icrs(frame_out).T @ _rotation_to_icrs(frame_in)
    # explicit sums instead of a BLAS product: identical results whatever the thread count
    out = [matrix[i, 0] * vec[0] + matrix[i, 1] * vec[1] + matrix[i, 2] * vec[2] for i in range(3)]
    lon_out = np.degrees(np.arctan2(out[1], out[0])) % 360.0
    lat_out = np.degrees(np.arcsin(np.clip(out[2], -1.0, 1.0)))
    return lon_out, lat_out


def _event_lonlat(events, frame):
    """Event positions (deg) in ``frame``, converted as the reference implementation does.

    The transformation runs through `~astropy.coordinates.SkyCoord` on the
    columns in their stored dtype: DL3 files store RA / DEC as float32, and
    astropy then evaluates part of the rotation in float32.  An event within
    ~1e-6 pixel of a pixel edge (one in seed 002's field) lands in the same
    pixel as in the reference only this way.
    """
    table = events.table
    ra = u.Quantity(table["RA"], copy=False)
    dec = u.Quantity(table["DEC"], copy=False)
    if frame == "icrs":
        return np.asarray(ra.to_value("deg")), np.asarray(dec.to_value("deg"))
    coord = SkyCoord(ra, dec, frame="icrs").transform_to(frame)
    return np.asarray(coord.spherical.lon.deg), np.asarray(coord.spherical.lat.deg)


def _image_lonlat_icrs(geom):
    """RA, Dec (deg, shape (ny, nx)) of the pixel centres of a WCS geometry."""
    ny, nx = geom.data_shape[-2:]
    y, x = np.mgrid[0:ny, 0:nx]
    lon, lat = geom.wcs.wcs_pix2world(x, y, 0)
    return _lonlat_to_frame(lon, lat, geom.frame, "icrs")


def _offset_frame(ra, dec, ra0, dec0):
    """Longitude / latitude (deg) in the offset frame centred on (ra0, dec0), lon towards +RA.

    Same convention as `~astropy.coordinates.SkyOffsetFrame` without its overhead.
    """
    ra, dec = np.radians(ra), np.radians(dec)
    ra0, dec0 = np.radians(ra0), np.radians(dec0)
    dra = ra - ra0
    cdec = np.cos(dec)
    x = cdec * np.cos(dra)
    y = cdec * np.sin(dra)
    z = np.sin(dec)
    xr = x * np.cos(dec0) + z * np.sin(dec0)
    zr = -x * np.sin(dec0) + z * np.cos(dec0)
    return np.degrees(np.arctan2(y, xr)), np.degrees(np.arcsin(np.clip(zr, -1, 1)))


def _separation_deg(ra, dec, ra0, dec0):
    """Great-circle distance (deg) via the offset frame (stable at small and large angles)."""
    ra, dec = np.radians(ra), np.radians(dec)
    ra0, dec0 = np.radians(ra0), np.radians(dec0)
    sdlon, cdlon = np.sin(ra - ra0), np.cos(ra - ra0)
    num1 = np.cos(dec) * sdlon
    num2 = np.cos(dec0) * np.sin(dec) - np.sin(dec0) * np.cos(dec) * cdlon
    den = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * cdlon
    return np.degrees(np.arctan2(np.hypot(num1, num2), den))


def _interp_offset_nodes(values_at_nodes, axis, offset, value_scale="lin"):
    """Interpolate values given at the offset nodes (last axis) to the offsets ``offset`` (any shape).

    ``values_at_nodes`` has shape ``(..., n_offset_nodes)``; the result has
    shape ``(...,) + offset.shape``.
    """
    idx, t, valid = NodeAxis(axis).weights(offset)
    v = np.asarray(values_at_nodes, dtype=float)
    if axis.nbin == 1:
        out = np.broadcast_to(v[..., :1].reshape(v.shape[:-1] + (1,) * offset.ndim),
                              v.shape[:-1] + offset.shape).copy()
        return np.where(valid, out, 0.0)
    if value_scale == "log":
        tiny = np.finfo(float).tiny
        lv = np.log(np.clip(v, tiny, None))
        res = lv[..., idx] * (1 - t) + lv[..., idx + 1] * t
        out = np.where(res <= np.log(tiny) * 0.5, 0.0, np.exp(res))
    else:
        # continued beyond the outer node: a steep fall must not go negative
        out = np.clip(v[..., idx] * (1 - t) + v[..., idx + 1] * t, 0.0, None)
    return np.where(valid, out, 0.0)


def _fill_missing_along_energy(data):
    """Zero / non-finite values replaced by interpolation of log(value) along the first (energy) axis.

    Interpolation is linear in bin index between the nearest valid bins of the
    same spatial bin; beyond the first / last valid bin the nearest valid value
    is used.  Spatial bins without any valid value stay zero.  Vectorized with
    running indices of the previous / next valid bin.
    """
    data = np.asarray(data, dtype=float)
    n = data.shape[0]
    valid = np.isfinite(data) & (data > 0)
    if valid.all():
        return data
    with np.errstate(divide="ignore", invalid="ignore"):
        logd = np.where(valid, np.log(np.where(valid, data, 1.0)), 0.0)
    index = np.arange(n).reshape((n,) + (1,) * (data.ndim - 1))
    index = np.broadcast_to(index, data.shape)
    prev = np.maximum.accumulate(np.where(valid, index, -1), axis=0)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(valid, index, n), axis=0), axis=0), axis=0)
    has_prev, has_next = prev >= 0, nxt < n
    p = np.clip(prev, 0, n - 1)
    q = np.clip(nxt, 0, n - 1)
    lp = np.take_along_axis(logd, p, axis=0)
    lq = np.take_along_axis(logd, q, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(q > p, (index - p) / np.where(q > p, q - p, 1), 0.0)
    interp = np.where(has_prev & has_next, lp + frac * (lq - lp), np.where(has_prev, lp, lq))
    filled = np.where(valid, data, np.where(has_prev | has_next, np.exp(interp), 0.0))
    return filled


def _energy_edges_fine(edges, factor):
    """Bin edges with every bin split into ``factor`` log-equal sub-bins."""
    if factor <= 1:
        return edges
    log_edges = np.log(edges)
    steps = np.linspace(0, 1, factor + 1)[:-1]
    fine = log_edges[:-1, None] + steps[None, :] * np.diff(log_edges)[:, None]
    return np.exp(np.append(fine.ravel(), log_edges[-1]))


def _integrate_log_log(edges, values):
    """Closed-form power-law integral over bins of values given at the edges (first axis)."""
    from ..irf.core import integrate_log_log

    e = np.reshape(edges, (-1,) + (1,) * (values.ndim - 1))
    return integrate_log_log(e[:-1], e[1:], values[:-1], values[1:])


class MapDatasetMaker(Maker):
    """Reduce an observation to a `~gammalike.datasets.MapDataset` on the geometry of a given dataset.

    Parameters
    ----------
    selection : list of str
        What to compute, among "counts", "exposure", "background", "psf", "edisp".
    background_oversampling : int, optional
        Sub-bins per reco-energy bin used to integrate the background rate.
    background_interp_missing_data : bool
        Fill zero / invalid bins of the background IRF by interpolating along
        energy before evaluating it (tables made from few events have holes).
    background_pad_offset : bool
        Extend a `~gammalike.irf.Background2D` by one offset bin (edge value),
        so that offsets between the last bin centre and edge are not zero.
    fov_rotation_error_limit : `~astropy.coordinates.Angle` or str
        For ALTAZ-aligned 3D backgrounds: maximum rotation of the field of view
        within one time slice; the background is averaged over slices.

    Examples
    --------
    >>> maker = MapDatasetMaker()
    >>> dataset = maker.run(MapDataset.create(geom, binsz_irf="0.2 deg"), observation)  # doctest: +SKIP
    """

    tag = "MapDatasetMaker"
    available_selection = ("counts", "exposure", "background", "psf", "edisp")

    def __init__(self, selection=None, background_oversampling=None, background_interp_missing_data=True,
                 background_pad_offset=True, fov_rotation_error_limit="0.5 deg"):
        if selection is None:
            selection = self.available_selection
        if isinstance(selection, str):
            selection = [selection]
        selection = list(selection)
        unknown = set(selection) - set(self.available_selection)
        if unknown:
            raise ValueError(
                f"MapDatasetMaker: unknown selection {sorted(unknown)}, "
                f"expected a subset of {list(self.available_selection)}"
            )
        if background_oversampling is not None:
            background_oversampling = int(background_oversampling)
            if background_oversampling < 1:
                raise ValueError(
                    f"MapDatasetMaker: background_oversampling must be >= 1, got {background_oversampling}"
                )
        limit = Angle(fov_rotation_error_limit)
        if not limit.deg > 0:
            raise ValueError(f"MapDatasetMaker: fov_rotation_error_limit must be > 0, got {limit}")
        self.selection = selection
        self.background_oversampling = background_oversampling
        self.background_interp_missing_data = bool(background_interp_missing_data)
        self.background_pad_offset = bool(background_pad_offset)
        self.fov_rotation_error_limit = limit

    # ------------------------------------------------------------------ counts
    @staticmethod
    def make_counts(geom, observation):
        """Counts cube: events binned in the pixels and reco-energy bins of ``geom``."""
        events = observation.events
        lon, lat = _event_lonlat(events, geom.frame)
        x, y = geom.wcs.wcs_world2pix(lon, lat, 0)
        nx, ny = geom.npix
        with np.errstate(invalid="ignore"):
            ix = np.floor(np.asarray(x) + 0.5)
            iy = np.floor(np.asarray(y) + 0.5)
        inside = np.isfinite(ix) & np.isfinite(iy) & (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        axis = geom.axes["energy"]
        edges = axis.edges.to_value("TeV")
        energy = events._column("ENERGY", u.TeV)
        ie = np.searchsorted(edges, energy, side="right") - 1
        inside &= (ie >= 0) & (ie < axis.nbin)
        flat = (ie[inside] * ny + iy[inside].astype(int)) * nx + ix[inside].astype(int)
        data = np.bincount(flat, minlength=axis.nbin * ny * nx).astype(np.float32)
        return Map.from_geom(geom, data=data.reshape(geom.data_shape), unit="", dtype=np.float32)

    # ------------------------------------------------------------------ exposure
    @staticmethod
    def _pointing(observation):
        pointing = observation.get_pointing_icrs()
        return float(pointing.ra.deg), float(pointing.dec.deg)

    def _offset_image(self, geom, observation):
        ra, dec = _image_lonlat_icrs(geom.to_image() if geom.axes else geom)
        ra0, dec0 = self._pointing(observation)
        return _separation_deg(ra, dec, ra0, dec0)

    def _aeff_values(self, observation, energy_true_tev, offset_deg):
        """Effective area (cm2-compatible unit of the IRF) at true energies x offsets.

        Returns an array of shape ``energy.shape + offset.shape`` in the IRF unit.
        """
        aeff = observation.aeff
        if aeff is None:
            raise ValueError(f"Observation {observation.obs_id}: no effective area (aeff) for the exposure")
        axis_offset = aeff.axes["offset"]
        e = energy_true_tev * u.TeV.to(aeff.axes["energy_true"].unit)
        nodes = axis_offset._center
        at_nodes = aeff.evaluate_float(e[:, None], nodes[None, :])
        off = offset_deg * u.deg.to(axis_offset.unit)
        return _interp_offset_nodes(at_nodes, axis_offset, off, aeff.interp_kwargs.get("value_scale", "lin"))

    def make_exposure(self, geom, observation):
        """Exposure cube ``aeff(energy_true, offset) * livetime`` in m2 s (``meta["livetime"]``)."""
        aeff = observation.aeff
        livetime = observation.observation_live_time_duration.to_value("s")
        axis = geom.axes["energy_true"]
        offset = self._offset_image(geom, observation)
        values = self._aeff_values(observation, axis.center.to_value("TeV"), offset)
        scale = u.Unit(aeff.unit).to("m2") * livetime
        data = (values * scale).reshape(geom.data_shape)
        exposure = Map.from_geom(geom, data=data.astype(np.float32), unit="m2 s", dtype=np.float32)
        exposure.meta["livetime"] = u.Quantity(livetime, "s")
        return exposure

    def make_exposure_irf(self, geom, observation):
        """Exposure on an IRF-map geometry (its non-energy axis squashed), float64, m2 s."""
        aeff = observation.aeff
        livetime = observation.observation_live_time_duration.to_value("s")
        axis = geom.axes["energy_true"]
        offset = self._offset_image(geom, observation)
        values = self._aeff_values(observation, axis.center.to_value("TeV"), offset)
        scale = u.Unit(aeff.unit).to("m2") * livetime
        data = (values * scale).reshape(geom.data_shape)
        return Map.from_geom(geom, data=data, unit="m2 s", dtype=float)

    # ------------------------------------------------------------------ background
    def _background_irf(self, observation):
        bkg = observation.bkg
        if bkg is None:
            raise ValueError(f"Observation {observation.obs_id}: no background IRF for selection 'background'")
        return bkg

    def _background_table(self, bkg):
        """Background rate table (float64, IRF unit) with missing data filled if asked (cached per IRF)."""
        cache = bkg.__dict__.setdefault("_gammalike_maker_cache", {})
        key = ("table", self.background_interp_missing_data)
        if key not in cache:
            data = np.asarray(bkg.data, dtype=float)
            if self.background_interp_missing_data:
                data = _fill_missing_along_energy(data)
            cache[key] = data
        return cache[key]

    def _background_interpolator(self, bkg):
        from ..irf.core import GridInterpolator

        cache = bkg.__dict__.setdefault("_gammalike_maker_cache", {})
        key = ("interp", self.background_interp_missing_data, self.background_pad_offset)
        if key not in cache:
            data = self._background_table(bkg)
            axes = list(bkg.axes)
            if self.background_pad_offset and "offset" in bkg.axes.names:
                axes, data = _pad_offset(bkg.axes, data)
            cache[key] = GridInterpolator(axes, data, **{
                "value_scale": bkg.interp_kwargs.get("value_scale", "log"),
                "fill_value": bkg.interp_kwargs.get("fill_value", 0.0),
            })
        return cache[key]

    def _fov_rotation_angles(self, observation, bkg):
        """Angles (deg) rotating RA/Dec offsets into the IRF's FoV frame, with time weights.

        For RADEC / REVERSE_LON_RADEC alignments: one angle 0 (the sign flip is
        applied separately).  For ALTAZ: the rotation at the middle of each
        time slice, slices chosen so that the field rotates by less than
        ``fov_rotation_error_limit`` within each.
        """
        from ..irf import FoVAlignment

        alignment = FoVAlignment(bkg.fov_alignment)
        if alignment != FoVAlignment.ALTAZ:
            return np.zeros(1), np.ones(1)
        location = observation.observatory_earth_location
        if location is None:
            raise ValueError(
                f"Observation {observation.obs_id}: an ALTAZ-aligned background needs the observatory "
                "location (GEOLON / GEOLAT keywords)"
            )
        tstart, tstop = observation.tstart, observation.tstop
        duration = (tstop - tstart).to_value("s")
        if duration <= 0:
            return np.array([self._altaz_rotation(observation, observation.tmid)]), np.ones(1)
        # rotation angle sampled every ~2 minutes (the parallactic angle changes fastest near transit)
        n_probe = max(3, int(np.ceil(duration / 120.0)) + 1)
        fractions = np.linspace(0, 1, n_probe)
        angles = np.array([self._altaz_rotation(observation, tstart + f * (tstop - tstart)) for f in fractions])
        angles = np.degrees(np.unwrap(np.radians(angles)))
        variation = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(angles)))])
        n_slices = max(1, int(np.ceil(variation[-1] / self.fov_rotation_error_limit.deg - 1e-9)))
        if n_slices == 1:
            return np.array([self._altaz_rotation(observation, observation.tmid)]), np.ones(1)
        # slice boundaries at equal steps of accumulated rotation; each slice uses its mid-time angle
        levels = np.linspace(0, variation[-1], n_slices + 1)
        bounds = np.interp(levels, variation, fractions)
        mids = 0.5 * (bounds[:-1] + bounds[1:])
        return np.interp(mids, fractions, angles), np.diff(bounds)

    @staticmethod
    def _altaz_rotation(observation, time):
        """Angle (deg) such that ALTAZ fov = R(angle) applied to the RA/Dec offsets at ``time``.

        Probed with `gammalike.makers.utils.fov_coordinates` on two points near
        the pointing, so the sign convention is the one of the 1D makers.
        """
        pointing = observation.get_pointing_icrs(time)
        altaz = observation.get_pointing_altaz(time)
        ra0, dec0 = float(pointing.ra.deg), float(pointing.dec.deg)
        step = 0.1
        ra = np.array([ra0, ra0])
        dec = np.array([dec0 + step, dec0 - step])
        from ..irf import FoVAlignment

        fov_lon, fov_lat = fov_coordinates(
            FoVAlignment.ALTAZ, pointing, ra, dec, frame="icrs", pointing_altaz=altaz, obstime=time,
            location=observation.observatory_earth_location,
        )
        # in the RADEC offset frame the probe "north" is (0, +step): find the rotation angle
        dx, dy = (fov_lon[0] - fov_lon[1]) / 2, (fov_lat[0] - fov_lat[1]) / 2
        return float(np.degrees(np.arctan2(-dx, dy)))

    def _fov_lonlat(self, geom, observation, bkg):
        """FoV coordinates (deg, lists over time slices) of the pixel centres, with slice weights."""
        from ..irf import FoVAlignment

        ra, dec = _image_lonlat_icrs(geom.to_image())
        ra0, dec0 = self._pointing(observation)
        lon, lat = _offset_frame(ra, dec, ra0, dec0)
        alignment = FoVAlignment(bkg.fov_alignment)
        if alignment == FoVAlignment.REVERSE_LON_RADEC:
            return [(-lon, lat)], np.ones(1)
        if alignment == FoVAlignment.RADEC:
            return [(lon, lat)], np.ones(1)
        angles, weights = self._fov_rotation_angles(observation, bkg)
        out = []
        for angle in angles:
            c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
            out.append((c * lon - s * lat, s * lon + c * lat))
        return out, weights

    def make_background(self, geom, observation):
        """Background counts predicted by the background IRF (float32 cube on ``geom``)."""
        bkg = self._background_irf(observation)
        interp = self._background_interpolator(bkg)
        axis = geom.axes["energy"]
        factor = self.background_oversampling or 1
        edges = _energy_edges_fine(axis.edges.to_value("TeV"), factor)
        e_eval = edges * u.TeV.to(bkg.axes["energy"].unit)
        image = geom.to_image()
        if "offset" in bkg.axes.names:
            offset = self._offset_image(image, observation) * u.deg.to(bkg.axes["offset"].unit)
            rate = interp([e_eval[:, None, None], offset[None]])
            rates, weights = [rate], np.ones(1)
        else:
            coords, weights = self._fov_lonlat(geom, observation, bkg)
            scale = u.deg.to(bkg.axes["fov_lon"].unit)
            rates = [interp([e_eval[:, None, None], lon[None] * scale, lat[None] * scale]) for lon, lat in coords]
        rate = sum(w * r for w, r in zip(weights, rates))
        rate = rate * u.Unit(bkg.unit).to("TeV-1 sr-1 s-1")
        integral = _integrate_log_log(edges, rate)
        if factor > 1:
            integral = integral.reshape((axis.nbin, factor) + integral.shape[1:]).sum(axis=1)
        # the span of the GTIs (what the events were selected with; see Observation.tstart)
        ontime = observation.observation_time_duration.to_value("s")
        data = integral * image.solid_angle().to_value("sr")[None] * ontime
        return Map.from_geom(geom, data=data.reshape(geom.data_shape).astype(np.float32), unit="",
                             dtype=np.float32)

    # ------------------------------------------------------------------ PSF and energy dispersion
    def make_psf(self, geom, observation):
        """`~gammalike.irf.PSFMap` on ``geom`` (axes rad, energy_true) with its exposure."""
        from ..irf import PSFMap

        psf = observation.psf
        if psf is None:
            raise ValueError(f"Observation {observation.obs_id}: no PSF for selection 'psf'")
        if isinstance(psf, PSFMap):
            return psf.copy()
        exposure = None
        if observation.aeff is not None:
            exposure = self.make_exposure_irf(geom.squash("rad"), observation)
        rad = geom.axes["rad"].center.to_value("deg")
        energy = geom.axes["energy_true"].center.to_value("TeV")
        offset = self._offset_image(geom, observation)
        values = _psf_values(psf, rad[None, :, None, None], energy[:, None, None, None], offset[None, None])
        data = np.broadcast_to(values, geom.data_shape)
        return PSFMap(Map.from_geom(geom, data=np.array(data, dtype=float), unit="sr-1"), exposure)

    def make_edisp(self, geom, observation):
        """`~gammalike.irf.EDispMap` on ``geom`` (axes migra, energy_true) with its exposure."""
        from ..irf import EDispMap

        edisp = observation.edisp
        if edisp is None:
            raise ValueError(f"Observation {observation.obs_id}: no energy dispersion for selection 'edisp'")
        exposure = None
        if observation.aeff is not None:
            exposure = self.make_exposure_irf(geom.squash("migra"), observation)
        edisp_map = EDispMap.from_edisp_irf(edisp, geom, pointing=observation.get_pointing_icrs(),
                                            exposure_map=exposure)
        # unit integral over migra in every bin (CTA 1DC densities are not normalised)
        edisp_map.normalize()
        return edisp_map

    def make_edisp_kernel(self, geom, observation):
        """`~gammalike.irf.EDispKernelMap` on ``geom`` (axes energy, energy_true) with its exposure.

        Each pixel gets `EnergyDispersion2D.get_edisp_kernel_matrix` at its
        offset: the migration pdf interpolated in offset, normalised over the
        migration table, probabilities outside the reco axis lost (the
        reference-written CTA 1DC maps agree to 1e-7).  Computed cheaply: the
        unnormalised CDF at the reco edges and the pdf integral are linear in
        the (linearly interpolated) pdf, so they are computed at the IRF offset
        nodes, interpolated per pixel and divided only then.
        """
        from ..irf import EDispKernel, EDispKernelMap

        edisp = observation.edisp
        if edisp is None:
            raise ValueError(f"Observation {observation.obs_id}: no energy dispersion for selection 'edisp'")
        energy_axis = geom.axes["energy"]
        energy_axis_true = geom.axes["energy_true"]
        exposure = None
        if observation.aeff is not None:
            exposure = self.make_exposure_irf(geom.squash("energy"), observation)
        if isinstance(edisp, EDispKernel):
            kernel = EDispKernelMap.from_edisp_kernel(edisp, geom=geom)
            return EDispKernelMap(kernel.edisp_map, exposure)
        axis_offset = edisp.axes["offset"]
        true_edges = energy_axis_true.edges.to_value("TeV")
        reco_edges = energy_axis.edges.to_value("TeV")
        e_true = np.sqrt(true_edges[:-1] * true_edges[1:])
        offset = self._offset_image(geom, observation) * u.deg.to(axis_offset.unit)
        n_true, n_edges = e_true.size, reco_edges.size
        if edisp.interp_kwargs.get("value_scale", "lin") != "lin":
            # not linear in the tabulated values: evaluate at every pixel's offset
            migra = np.broadcast_to(reco_edges / e_true[:, None, None], (n_true, offset.size, n_edges))
            cdf = edisp._normalized_cdf(migra, e_true[:, None], offset.reshape(1, -1))
            data = np.moveaxis(np.diff(cdf, axis=-1), 1, -1).reshape((n_true, n_edges - 1) + offset.shape)
        else:
            nodes = axis_offset._center
            migra = np.broadcast_to(reco_edges / e_true[:, None, None], (n_true, nodes.size, n_edges))
            cdf = edisp._cdf(migra, e_true[:, None], nodes[None, :])  # (n_true, n_nodes, n_reco + 1)
            total = edisp._cdf_at_edges(e_true[:, None], nodes[None, :])[..., -1]  # (n_true, n_nodes)
            cdf = _interp_offset_nodes(np.moveaxis(cdf, 1, -1), axis_offset, offset)  # (n_true, n_reco + 1, ...)
            total = _interp_offset_nodes(total, axis_offset, offset)[:, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                cdf = np.where(total > 0, cdf / np.where(total > 0, total, 1.0), 0.0)
            data = np.diff(cdf, axis=1)
        data = np.clip(data, 0.0, 1.0).reshape(geom.data_shape)
        return EDispKernelMap(Map.from_geom(geom, data=data, unit="", dtype=float), exposure)

    # ------------------------------------------------------------------ run
    def run(self, dataset, observation):
        """Reduce ``observation`` onto the geometries of ``dataset``.

        Parameters
        ----------
        dataset : `~gammalike.datasets.MapDataset`
            Reference dataset (e.g. from `MapDataset.create`): its counts
            geometry, exposure geometry (true energy), PSF and energy-dispersion
            geometries, name and masks are used.
        observation : `~gammalike.data.Observation`
            Observation.

        Returns
        -------
        dataset : `~gammalike.datasets.MapDataset`
            New dataset with the selected maps filled, the observation's GTI and meta table.
        """
        from ..irf import EDispMap

        geoms = dataset.geoms
        geom = geoms["geom"]
        kwargs = dict(
            name=dataset.name, gti=observation.gti, meta_table=make_observation_meta_table(observation),
            mask_safe=dataset.mask_safe, mask_fit=dataset.mask_fit, meta=dict(getattr(dataset, "meta", {}) or {}),
        )
        kwargs["counts"] = self.make_counts(geom, observation) if "counts" in self.selection else dataset.counts
        if "exposure" in self.selection:
            geom_exposure = geoms.get("geom_exposure")
            if geom_exposure is None:
                geom_exposure = geom.to_image().to_cube([geom.axes["energy"].copy(name="energy_true")])
            kwargs["exposure"] = self.make_exposure(geom_exposure, observation)
        else:
            kwargs["exposure"] = dataset.exposure
        if "background" in self.selection:
            kwargs["background"] = self.make_background(geom, observation)
        else:
            kwargs["background"] = dataset.background
        if "psf" in self.selection:
            if "geom_psf" not in geoms:
                raise ValueError(f"MapDatasetMaker: dataset {dataset.name!r} has no PSF map geometry "
                                 "(create it with MapDataset.create)")
            kwargs["psf"] = self.make_psf(geoms["geom_psf"], observation)
        else:
            kwargs["psf"] = dataset.psf
        if "edisp" in self.selection:
            if "geom_edisp" not in geoms:
                raise ValueError(f"MapDatasetMaker: dataset {dataset.name!r} has no energy-dispersion map "
                                 "geometry (create it with MapDataset.create)")
            if isinstance(dataset.edisp, EDispMap):
                kwargs["edisp"] = self.make_edisp(geoms["geom_edisp"], observation)
            else:
                kwargs["edisp"] = self.make_edisp_kernel(geoms["geom_edisp"], observation)
        else:
            kwargs["edisp"] = dataset.edisp
        for key in ("TELESCOP", "INSTRUME"):
            if key in observation.meta and key not in kwargs["meta"]:
                kwargs["meta"][key] = observation.meta[key]
        return type(dataset)(**kwargs) if type(dataset).__name__ == "MapDataset" else _map_dataset(kwargs)


def _map_dataset(kwargs):
    from ..datasets import MapDataset

    return MapDataset(**kwargs)


def _psf_values(psf, rad, energy, offset):
    """PSF values (sr-1) at broadcast (rad, energy, offset), floats in deg / TeV / deg.

    A parametric PSF interpolates its parameters on the (energy, offset) grid
    only and broadcasts its formula over ``rad``.
    """
    return psf._evaluate_float(rad, energy, offset)


def _pad_offset(axes, data):
    """Offset axis and data extended by one bin of the edge value (Background2D)."""
    from ..maps import MapAxis

    names = axes.names
    idx = names.index("offset")
    offset = axes["offset"]
    edges = offset.edges
    width = edges[-1] - edges[-2]
    new_axis = MapAxis.from_edges(np.append(edges.value, (edges[-1] + width).value), unit=edges.unit,
                                  name="offset", interp=offset.interp)
    last = np.take(data, [-1], axis=idx)
    new_data = np.concatenate([data, last], axis=idx)
    new_axes = list(axes)
    new_axes[idx] = new_axis
    return new_axes, new_data
