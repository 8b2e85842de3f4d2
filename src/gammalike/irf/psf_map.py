"""`PSFMap`: the PSF on a (coarse) sky grid, with its exposure.

The PSF map has axes ``rad`` (angle from the true position, nodes) and
``energy_true``; values are ``dP/dOmega`` in sr-1. For containment the PSF is
taken as linear between ``rad`` nodes, so ``2 pi int r PSF(r) dr`` has a closed
form in each interval; between energy nodes the profiles are interpolated
linearly in log energy (clipped at the ends).

`PSFMap.get_psf_kernel` integrates the radial profile over the pixels of a
target geometry (mean over a ``factor`` x ``factor`` sub-pixel grid) in the
local tangent plane of the position, using the local pixel scale of the target
WCS, with the PSF linear between ``rad`` nodes.  (The seed-000 Fermi-LAT
statistic matches the reference only with this linear interpolation: log-PSF
interpolation moves it by 0.1-0.25.)  The profile at a position is
interpolated bilinearly between the centres of the IRF map's spatial bins
(bins without exposure are left out), so it varies continuously as a source
moves instead of jumping at bin edges.
Kernels are cached per profile weights, pixel scale and energy axis.
"""
import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord

from ..maps import Map, MapAxis, WcsGeom
from .irf_map import IRFMap, _lonlat_in_frame
from .psf_kernel import PSFKernel, _energy_axis_of, _odd_npix

__all__ = ["PSFMap"]

_DEG_TO_RAD = np.pi / 180.0


class PSFMap(IRFMap):
    """PSF map with its exposure.

    Parameters
    ----------
    psf_map : `~gammalike.maps.Map`
        PSF values (sr-1) with axes ``rad`` and ``energy_true`` (older files'
        "theta" / "energy" axes are renamed).
    exposure_map : `~gammalike.maps.Map`, optional
        Exposure with axes ``rad`` (one bin) and ``energy_true``.
    """

    tag = "psf_map"
    hdu_name = "PSF"
    required_axes = ("rad", "energy_true")
    _axis_renames = {"theta": "rad", "energy": "energy_true"}
    _axis_units = {"energy_true": "TeV", "rad": "deg"}

    def __init__(self, psf_map, exposure_map=None):
        super().__init__(psf_map, exposure_map)
        # e.g. deg-2: work in sr-1 (unitless maps are taken as sr-1 as they are)
        unit = self._irf_map.unit
        if unit != u.Unit("sr-1") and unit.is_equivalent("sr-1"):
            self._irf_map = self._irf_map.to_unit("sr-1")

    @property
    def psf_map(self):
        """PSF map (sr-1)."""
        return self._irf_map

    @psf_map.setter
    def psf_map(self, value):
        self._set_irf_map(value)

    @property
    def rad_axis(self):
        return self._irf_map.geom.axes["rad"]

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_hdulist(cls, hdulist, hdu=None, hdu_bands=None, exposure_hdu=None,
                     exposure_hdu_bands=None, format="gadf"):
        """Create from an HDU list: ``format="gadf"`` (see `IRFMap.from_hdulist`) or
        ``"gtpsf"``, the table of the Fermi-LAT ``gtpsf`` tool (`gammalike.irf.gtpsf`)."""
        if format == "gtpsf":
            from .gtpsf import read_gtpsf

            return cls(*read_gtpsf(hdulist))
        if format != "gadf":
            raise ValueError(f"PSFMap.from_hdulist: unknown format {format!r}, expected 'gadf' or 'gtpsf'")
        return super().from_hdulist(hdulist, hdu=hdu, hdu_bands=hdu_bands, exposure_hdu=exposure_hdu,
                                    exposure_hdu_bands=exposure_hdu_bands, format=format)

    def to_hdulist(self, format="gadf", hdu=None):
        """HDU list in ``format`` "gadf" (see `IRFMap.to_hdulist`) or "gtpsf" (the PSF of the first pixel)."""
        if format == "gtpsf":
            from .gtpsf import gtpsf_hdulist

            return gtpsf_hdulist(self._irf_map, self._exposure_map)
        return super().to_hdulist(format=format, hdu=hdu)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_geom(cls, geom):
        """Empty PSF map (zeros) and zero exposure on ``geom`` (axes rad and energy_true)."""
        geom_exposure = geom.squash("rad")
        psf = Map.from_geom(geom, unit="sr-1", dtype=float)
        exposure = Map.from_geom(geom_exposure, unit="m2 s", dtype=float)
        return cls(psf, exposure)

    @classmethod
    def from_gauss(cls, energy_axis_true, rad_axis=None, sigma=0.1 * u.deg, geom=None):
        """Gaussian PSF ``exp(-r^2 / 2 sigma^2) / (2 pi sigma^2)`` (sr-1).

        Parameters
        ----------
        energy_axis_true : `~gammalike.maps.MapAxis`
            True energy axis.
        rad_axis : `~gammalike.maps.MapAxis`, optional
            Rad nodes (default: 300 nodes from 0 to 5 sigma_max).
        sigma : `~astropy.coordinates.Angle`
            Width (scalar or one value per true-energy bin).
        geom : `~gammalike.maps.WcsGeom`, optional
            Spatial grid (default: the all-sky 2 x 1 grid of the Fermi files).
        """
        sigma = np.atleast_1d(Angle(sigma).to_value("deg")).astype(float)
        if sigma.size not in (1, energy_axis_true.nbin):
            raise ValueError(
                f"PSFMap.from_gauss: sigma has {sigma.size} values, expected 1 or {energy_axis_true.nbin}"
            )
        sigma = np.broadcast_to(sigma, (energy_axis_true.nbin,))
        if rad_axis is None:
            rad_axis = MapAxis.from_nodes(
                np.linspace(0, 5 * sigma.max(), 300), unit="deg", name="rad"
            )
        rad = u.Quantity(rad_axis.center).to_value("deg")
        if geom is None:
            geom = WcsGeom.create(npix=(2, 1), binsz=180, proj="CAR", frame="icrs")
        geom = geom.to_image().to_cube([rad_axis, energy_axis_true.rename("energy_true")])
        s_rad = sigma[:, None] * _DEG_TO_RAD
        values = np.exp(-0.5 * (rad[None, :] / sigma[:, None]) ** 2) / (2 * np.pi * s_rad**2)
        data = np.broadcast_to(values[:, :, None, None], geom.data_shape).copy()
        return cls(Map.from_geom(geom, data=data, unit="sr-1", dtype=float))

    @classmethod
    def from_psf_irf(cls, psf, geom, pointing=None, exposure_map=None):
        """PSF map from a DL3 PSF (`PSF3D`, `EnergyDependentMultiGaussPSF`, `PSFKing` ...).

        Parameters
        ----------
        psf : PSF IRF
            Object with ``evaluate(rad=, energy_true=, offset=)`` returning sr-1.
        geom : `~gammalike.maps.WcsGeom`
            Target geometry with axes rad and energy_true.
        pointing : `~astropy.coordinates.SkyCoord`, optional
            Pointing position; offsets are pixel separations from it (0 if None).
        exposure_map : `~gammalike.maps.Map`, optional
            Exposure (axes rad squashed, energy_true).
        """
        rad = geom.axes["rad"].center.to("deg")
        energy = geom.axes["energy_true"].center.to("TeV")
        if pointing is None:
            offset = np.zeros(geom.data_shape[-2:])
        else:
            offset = geom.to_image().separation(pointing).to_value("deg")
        values = psf.evaluate(
            rad=rad[None, :, None, None], energy_true=energy[:, None, None, None],
            offset=u.Quantity(offset[None, None], "deg"),
        )
        data = np.broadcast_to(u.Quantity(values).to_value("sr-1"), geom.data_shape)
        return cls(Map.from_geom(geom, data=np.array(data, dtype=float), unit="sr-1"), exposure_map)

    # ------------------------------------------------------------------ profiles
    def _profile_table(self, position=None):
        """(rad nodes in deg, PSF values (n_energy_nodes, n_rad) in sr-1, cache key) at ``position``."""
        weights = self._spatial_weights(position)

        def compute():
            data = sum(w * np.asarray(self._irf_map.data[..., iy, ix], dtype=float) for (iy, ix), w in weights)
            return np.nan_to_num(data)

        key = tuple((iy, ix, round(w, 9)) for (iy, ix), w in weights)
        values = self._cache_get(("profile",) + key, compute)
        return np.asarray(self.rad_axis.center.to_value("deg"), dtype=float), values, key

    def _spatial_weights(self, position=None):
        """Bilinear weights ``[((iy, ix), w), ...]`` of the spatial bins around ``position``.

        Between bin centres; clamped to the outer centres; bins without
        exposure are left out and the rest renormalised (the nearest bin with
        exposure if none is left).
        """
        geom = self._irf_map.geom
        ny, nx = geom.data_shape[-2:]
        if ny * nx == 1:
            return [((0, 0), 1.0)]
        pos = geom.center_skydir if position is None else position
        lon, lat = _lonlat_in_frame(pos, geom.frame)
        x, y = (float(v) for v in geom.wcs.wcs_world2pix(lon, lat, 0))
        if not (np.isfinite(x) and np.isfinite(y)):
            return [(self._spatial_index(position), 1.0)]
        valid = self._valid_image() if self._exposure_map is not None else np.ones((ny, nx), dtype=bool)
        weights = []
        for iy, wy in _axis_weights(y, ny):
            for ix, wx in _axis_weights(x, nx):
                if wx * wy > 0 and valid[iy, ix]:
                    weights.append(((iy, ix), wx * wy))
        total = sum(w for _, w in weights)
        if total <= 0:
            return [(self._spatial_index(position), 1.0)]
        return [(index, w / total) for index, w in weights]

    def _profiles(self, energy_tev, position=None):
        """PSF profiles at true energies (TeV, flat array): (n, n_rad) in sr-1."""
        rad, table, _ = self._profile_table(position)
        return rad, _interp_energy(self.energy_axis_true, table, energy_tev)

    def _cumulative(self, rad, profiles):
        """Containment at the rad nodes, (n, n_rad) (exact for PSF linear in rad)."""
        r = rad * _DEG_TO_RAD
        f0, f1 = profiles[:, :-1], profiles[:, 1:]
        r0, r1 = r[:-1], r[1:]
        h = r1 - r0
        # integral of r f(r) on [r0, r1] for linear f (Simpson is exact for quadratics)
        rm, fm = 0.5 * (r0 + r1), 0.5 * (f0 + f1)
        seg = 2 * np.pi * h / 6 * (r0 * f0 + 4 * rm * fm + r1 * f1)
        cum = np.zeros_like(profiles)
        cum[:, 1:] = np.cumsum(seg, axis=1)
        if r[0] > 0:
            # PSF taken constant from 0 to the first node
            cum += (np.pi * r[0] ** 2 * profiles[:, :1])
        return cum

    # ------------------------------------------------------------------ containment
    def containment(self, rad, energy_true, position=None):
        """Fraction of the PSF within ``rad`` (broadcast over rad and energy_true).

        Parameters
        ----------
        rad : `~astropy.coordinates.Angle`
            Radii.
        energy_true : `~astropy.units.Quantity`
            True energies.
        position : `~astropy.coordinates.SkyCoord`, optional
            Sky position (default: the map centre).
        """
        rad_q = np.asarray(Angle(rad).to_value("deg"), dtype=float)
        energy = np.asarray(u.Quantity(energy_true).to_value("TeV"), dtype=float)
        rad_q, energy = np.broadcast_arrays(rad_q, energy)
        nodes, profiles = self._profiles(energy.ravel(), position)
        cum = self._cumulative(nodes, profiles)
        values = _containment_at(nodes, profiles, cum, rad_q.ravel())
        return u.Quantity(values.reshape(rad_q.shape), "")

    def containment_radius(self, fraction, energy_true, position=None):
        """Radius containing ``fraction`` of the PSF (broadcast over fraction and energy).

        Where the fraction is not reached within the ``rad`` axis, the last rad
        node is returned.
        """
        fraction = np.asarray(u.Quantity(fraction).to_value(""), dtype=float)
        energy = np.asarray(u.Quantity(energy_true).to_value("TeV"), dtype=float)
        fraction, energy = np.broadcast_arrays(fraction, energy)
        nodes, profiles = self._profiles(energy.ravel(), position)
        cum = self._cumulative(nodes, profiles)
        radius = _invert_cumulative(nodes, cum, fraction.ravel())
        return Angle(radius.reshape(fraction.shape), "deg")

    # ------------------------------------------------------------------ kernels
    def get_psf_kernel(self, geom, position=None, max_radius=None, containment=0.999, factor=4):
        """PSF kernel at a position on the pixel grid of ``geom``.

        Parameters
        ----------
        geom : `~gammalike.maps.WcsGeom`
            Target geometry: pixel size / projection and the energy_true axis
            of the kernel (the PSF's own energy nodes if ``geom`` has none).
        position : `~astropy.coordinates.SkyCoord`, optional
            Position (default: centre of ``geom``).
        max_radius : `~astropy.coordinates.Angle`, optional
            Kernel half-width (default: the largest ``containment`` radius over
            the kernel energies).
        containment : float
            Containment fraction used for the default ``max_radius``.
        factor : int
            Oversampling factor of the pixel integration.

        Returns
        -------
        kernel : `~gammalike.irf.PSFKernel`
            Kernel (cached: do not modify it in place).
        """
        if position is None:
            position = geom.center_skydir
        if not isinstance(position, SkyCoord):
            raise TypeError(f"PSFMap.get_psf_kernel: position must be a SkyCoord, got {type(position).__name__}")
        energy_axis = _energy_axis_of(geom)
        if energy_axis is None:
            energy_axis = self.energy_axis_true
        max_r = None if max_radius is None else round(float(Angle(max_radius).to_value("deg")), 9)
        # fast path: same (rounded) position, pixel grid and options as a previous call
        sph = position.spherical
        fast_key = (
            "kernel_fast", position.frame.name, round(float(sph.lon.deg), 6),
            round(float(sph.lat.deg), 6), _geom_key(geom), _energy_key(energy_axis),
            max_r, float(containment), int(factor),
        )
        kernel = self._cache.get(fast_key)
        if kernel is not None:
            return kernel
        kernel = self._get_psf_kernel(geom, position, energy_axis, max_r, containment, factor)
        self._cache_get(fast_key, lambda: kernel)
        return kernel

    def _get_psf_kernel(self, geom, position, energy_axis, max_r, containment, factor):
        jac = _local_jacobian(geom, position)
        _, _, profile_key = self._profile_table(position)
        key = (
            "kernel", profile_key, tuple(np.round(jac.ravel(), 10)), _energy_key(energy_axis),
            max_r, float(containment), int(factor), geom.frame, _proj(geom),
        )

        def compute():
            return self._compute_kernel(
                geom, position, energy_axis, jac, max_r, containment, int(factor)
            )

        return self._cache_get(key, compute)

    def _compute_kernel(self, geom, position, energy_axis, jac, max_radius, containment, factor):
        energy = energy_axis.center.to_value("TeV")
        nodes, profiles = self._profiles(energy, position)
        if max_radius is None:
            cum = self._cumulative(nodes, profiles)
            radii = _invert_cumulative(nodes, cum, np.full(len(energy), float(containment)))
            max_radius = float(np.nanmax(radii)) if np.any(np.isfinite(radii)) else float(nodes[-1])
        # pixel sizes along x / y in the tangent plane at the position
        bx = float(np.hypot(jac[0, 0], jac[1, 0]))
        by = float(np.hypot(jac[0, 1], jac[1, 1]))
        nx, ny = _odd_npix(max_radius, bx), _odd_npix(max_radius, by)
        # sub-pixel centres, offsets in pixels from the kernel centre
        ux = (np.arange(nx * factor) + 0.5) / factor - nx / 2.0
        uy = (np.arange(ny * factor) + 0.5) / factor - ny / 2.0
        xi = jac[0, 0] * ux[None, :] + jac[0, 1] * uy[:, None]
        eta = jac[1, 0] * ux[None, :] + jac[1, 1] * uy[:, None]
        r = np.hypot(xi, eta).ravel()
        data = _radial_pixel_integral(nodes, profiles, r, nx, ny, factor)
        kgeom = WcsGeom.create(
            skydir=position, binsz=(bx, by), npix=(nx, ny), frame=geom.frame, proj=_proj(geom),
            axes=[energy_axis],
        )
        return PSFKernel(Map.from_geom(kgeom, data=data, dtype=float), normalize=True)

    # ------------------------------------------------------------------ sampling
    def sample_coord(self, map_coord, random_state=0, chunk_size=10000):
        """Positions smeared by the PSF: a copy of ``map_coord`` with new lon / lat.

        Each event gets the PSF of the spatial bin of its true position at its
        true energy; the offset is drawn from the (normalised) containment curve
        and the position angle uniformly.

        Parameters
        ----------
        map_coord : `~gammalike.maps.MapCoord`
            True positions (``skycoord`` or lon/lat) and ``energy_true``.
        random_state : int or `~numpy.random.Generator`
            Random state.
        chunk_size : int
            Number of events processed at once.
        """
        from ..maps import MapCoord

        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        coords = MapCoord.create(map_coord).broadcasted
        frame = coords.frame or "icrs"
        lon = np.asarray(coords.lon, dtype=float).ravel()
        lat = np.asarray(coords.lat, dtype=float).ravel()
        energy = np.asarray(u.Quantity(coords["energy_true"], "TeV").value, dtype=float).ravel()
        n = lon.size
        geom = self._irf_map.geom
        if self.has_single_spatial_bin:
            flat_bin = np.zeros(n, dtype=int)
        else:
            image = geom.to_image()
            ix, iy = image.coord_to_idx(MapCoord({"lon": lon, "lat": lat}, frame=frame), clip=True)[:2]
            flat_bin = iy * geom.data_shape[-1] + ix
        nodes = self.rad_axis.center.to_value("deg")
        data = np.nan_to_num(np.asarray(self._irf_map.data, dtype=float))
        data = data.reshape(data.shape[:2] + (-1,))
        u_rand = rng.uniform(size=n)
        rad = np.empty(n)
        for b in np.unique(flat_bin):
            sel = np.nonzero(flat_bin == b)[0]
            for start in range(0, sel.size, chunk_size):
                part = sel[start:start + chunk_size]
                profiles = _interp_energy(self.energy_axis_true, data[..., b], energy[part])
                cum = self._cumulative(nodes, profiles)
                total = cum[:, -1:]
                with np.errstate(invalid="ignore", divide="ignore"):
                    cum = np.where(total > 0, cum / total, 0)
                rad[part] = _invert_cumulative(nodes, cum, u_rand[part])
        pa = rng.uniform(0, 360, size=n)
        skycoord = SkyCoord(lon, lat, unit="deg", frame=frame)
        new = skycoord.directional_offset_by(pa * u.deg, rad * u.deg)
        lon_new, lat_new = _lonlat_arrays(new, frame)
        shape = coords.shape
        out = {"lon": lon_new.reshape(shape), "lat": lat_new.reshape(shape)}
        out.update({k: v for k, v in coords.items() if k not in ("lon", "lat")})
        return MapCoord(out, frame=frame)

    # ------------------------------------------------------------------ plots
    def plot_containment_radius_vs_energy(self, ax=None, fraction=(0.68, 0.95), position=None, **kwargs):
        """Containment radii vs true energy at a position."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        axis = self.energy_axis_true
        energy = np.geomspace(axis._edges[0], axis._edges[-1], 100) * axis.unit
        for f in np.atleast_1d(fraction):
            radius = self.containment_radius(f, energy, position=position)
            ax.plot(energy.to_value("TeV"), radius.deg, label=f"{100 * f:.0f}%", **kwargs)
        ax.set_xscale("log")
        ax.set_xlabel("True energy [TeV]")
        ax.set_ylabel("Containment radius [deg]")
        ax.legend(loc="best")
        return ax

    def plot_psf_vs_rad(self, ax=None, energy_true=(0.1, 1, 10) * u.TeV, position=None, **kwargs):
        """PSF values vs rad at a few true energies."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        nodes, profiles = self._profiles(u.Quantity(energy_true).to_value("TeV").ravel(), position)
        for e, values in zip(np.atleast_1d(u.Quantity(energy_true)), profiles):
            ax.plot(nodes, values, label=f"{e:.3g}", **kwargs)
        ax.set_yscale("log")
        ax.set_xlabel("Rad [deg]")
        ax.set_ylabel("PSF [sr-1]")
        ax.legend(loc="best")
        return ax

    def peek(self, figsize=(12, 10)):
        """Containment radii, PSF profiles, exposure and 68% containment image."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=figsize)
        self.plot_containment_radius_vs_energy(ax=axes[0, 0])
        axis = self.energy_axis_true
        energies = axis.center[[0, axis.nbin // 2, axis.nbin - 1]]
        self.plot_psf_vs_rad(ax=axes[0, 1], energy_true=energies)
        exposure = None
        if self._exposure_map is not None:
            exposure = np.asarray(self._exposure_map.data, dtype=float)
            exposure = exposure.reshape(exposure.shape[0], -1).mean(axis=1)
        if exposure is not None and np.any(exposure):
            axes[1, 0].plot(axis.center.to_value("TeV"), exposure)
            axes[1, 0].set_xscale("log")
            axes[1, 0].set_xlabel("True energy [TeV]")
            axes[1, 0].set_ylabel(f"Mean exposure [{self._exposure_map.unit}]")
        else:
            axes[1, 0].text(0.5, 0.5, "no exposure stored with this PSF map", ha="center",
                            va="center", transform=axes[1, 0].transAxes)
            axes[1, 0].set_axis_off()
        # 68 % containment radius image at the middle energy
        ny, nx = self._irf_map.data.shape[-2:]
        nodes = self.rad_axis.center.to_value("deg")
        e_mid = axis.center[axis.nbin // 2].to_value("TeV")
        table = np.nan_to_num(np.asarray(self._irf_map.data, dtype=float))
        prof = _interp_energy(axis, table.reshape(table.shape[0], table.shape[1], -1).transpose(2, 0, 1),
                              np.array([e_mid]), batched=True)
        cum = self._cumulative(nodes, prof)
        radius = _invert_cumulative(nodes, cum, np.full(prof.shape[0], 0.68)).reshape(ny, nx)
        ax = axes[1, 1]
        if radius.size == 1:
            # a single position (e.g. a point-source PSF map): an image would be one flat pixel
            ax.text(0.5, 0.5, f"one spatial position:\n68% containment radius\n{radius.item():.3g} deg "
                    f"at {e_mid:.3g} TeV", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            im = ax.imshow(radius, origin="lower", cmap="viridis")
            fig.colorbar(im, ax=ax, label="68% containment radius [deg]")
            ax.set_xlabel("x [pixel]")
            ax.set_ylabel("y [pixel]")
            ax.set_title(f"energy_true = {e_mid:.3g} TeV")
        plt.tight_layout()
        return axes


# --------------------------------------------------------------------------- helpers
def _geom_key(geom):
    """Hashable description of a geometry's pixel grid (no arrays of pixels)."""
    wcs = getattr(geom, "wcs", None)
    if wcs is None:
        return ("nowcs", repr(geom))
    w = wcs.wcs
    return (
        tuple(w.ctype), tuple(np.round(w.crval, 10)), tuple(np.round(w.cdelt, 12)),
        tuple(np.round(w.crpix, 6)), tuple(np.round(np.ravel(w.get_pc()), 12)),
        float(w.lonpole), float(w.latpole),
    )


def _energy_key(axis):
    return (tuple(np.round(axis._edges, 12)), axis.unit.to_string())


def _proj(geom):
    return getattr(geom, "projection", None) or "TAN"


def _interp_energy(axis, table, energy_tev, batched=False):
    """Profiles at ``energy_tev`` interpolated linearly in log energy between the axis nodes.

    ``table`` is (n_nodes, n_rad), or (n_batch, n_nodes, n_rad) if ``batched``
    (then the result is (n_batch, n_rad) for a single energy).
    """
    n = axis.nbin
    energy_tev = np.asarray(energy_tev, dtype=float)
    if n == 1:
        if batched:
            return table[:, 0]
        return np.broadcast_to(table[0], (energy_tev.size, table.shape[-1])).copy()
    pix = np.asarray(axis.coord_to_pix(u.Quantity(energy_tev, "TeV")), dtype=float)
    pix = np.clip(np.nan_to_num(pix, nan=0.0), 0, n - 1)
    lo = np.minimum(np.floor(pix).astype(int), n - 2)
    w = (pix - lo)[:, None]
    if batched:
        return table[:, lo[0]] * (1 - w[0]) + table[:, lo[0] + 1] * w[0]
    return table[lo] * (1 - w) + table[lo + 1] * w


def _axis_weights(p, n):
    """Linear-interpolation ``[(index, weight), ...]`` of pixel coordinate ``p`` on ``n`` bin centres."""
    if n == 1:
        return [(0, 1.0)]
    p = min(max(p, 0.0), n - 1.0)
    i0 = min(int(np.floor(p)), n - 2)
    f = p - i0
    return [(i0, 1.0 - f), (i0 + 1, f)]


def _radial_pixel_integral(nodes, profiles, r, nx, ny, factor):
    """Sum over the ``factor`` x ``factor`` sub-pixels of each pixel of profiles at radii ``r``.

    The PSF is linear between ``rad`` nodes (constant inside the first one,
    zero beyond the last).  The interpolation weights of the sub-pixel radii
    do not depend on energy: they form a sparse (pixel x node) matrix applied
    to all energy profiles at once.

    Returns an array (n_energy, ny, nx).
    """
    from scipy import sparse

    n = nodes.size
    idx = np.clip(np.searchsorted(nodes, r, side="right") - 1, 0, n - 2)
    w = np.clip((r - nodes[idx]) / (nodes[idx + 1] - nodes[idx]), 0.0, 1.0)
    sub_y = np.arange(ny * factor) // factor
    sub_x = np.arange(nx * factor) // factor
    pix = (sub_y[:, None] * nx + sub_x[None, :]).ravel()
    keep = r <= nodes[-1]
    pix, idx, w = pix[keep], idx[keep], w[keep]
    matrix = sparse.csr_matrix(
        (np.concatenate([1 - w, w]), (np.concatenate([pix, pix]), np.concatenate([idx, idx + 1]))),
        shape=(nx * ny, n),
    )
    values = matrix @ profiles.T  # (n_pix, n_energy)
    return np.ascontiguousarray(values.T).reshape(profiles.shape[0], ny, nx)


def _containment_at(nodes, profiles, cum, rad):
    """Containment at ``rad`` (one value per profile row), exact for linear PSF."""
    n = nodes.size
    r = np.clip(rad, 0, nodes[-1])
    rows = np.arange(profiles.shape[0])
    idx = np.clip(np.searchsorted(nodes, r, side="right") - 1, 0, n - 2)
    r0, r1 = nodes[idx], nodes[idx + 1]
    f0, f1 = profiles[rows, idx], profiles[rows, idx + 1]
    below = r < r0  # only before the first node
    rr, rr0 = r * _DEG_TO_RAD, r0 * _DEG_TO_RAD
    g = (f1 - f0) / ((r1 - r0) * _DEG_TO_RAD)
    part = f0 * (rr**2 - rr0**2) / 2 + g * ((rr**3 - rr0**3) / 3 - rr0 * (rr**2 - rr0**2) / 2)
    values = cum[rows, idx] + 2 * np.pi * part
    values = np.where(below, np.pi * rr**2 * profiles[rows, 0], values)
    return values


def _invert_cumulative(nodes, cum, fraction):
    """Radius where each row of ``cum`` reaches ``fraction`` (linear between nodes)."""
    cum = np.maximum.accumulate(cum, axis=1)
    n = nodes.size
    rows = np.arange(cum.shape[0])
    j = (cum < fraction[:, None]).sum(axis=1)
    reached = j < n
    j = np.clip(j, 1, n - 1)
    c0, c1 = cum[rows, j - 1], cum[rows, j]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(c1 > c0, (fraction - c0) / (c1 - c0), 0.0)
    t = np.clip(t, 0, 1)
    radius = nodes[j - 1] + t * (nodes[j] - nodes[j - 1])
    radius = np.where(fraction <= cum[:, 0], nodes[0], radius)
    return np.where(reached, radius, nodes[-1])


def _gnomonic(lon, lat, lon0, lat0):
    """Tangent-plane coordinates (deg) of points around (lon0, lat0) (all in deg)."""
    lon, lat, lon0, lat0 = (np.radians(v) for v in (lon, lat, lon0, lat0))
    dlon = lon - lon0
    cos_c = np.sin(lat0) * np.sin(lat) + np.cos(lat0) * np.cos(lat) * np.cos(dlon)
    xi = np.cos(lat) * np.sin(dlon) / cos_c
    eta = (np.cos(lat0) * np.sin(lat) - np.sin(lat0) * np.cos(lat) * np.cos(dlon)) / cos_c
    return np.degrees(xi), np.degrees(eta)


def _local_jacobian(geom, position):
    """2x2 matrix mapping pixel offsets (x, y) to tangent-plane offsets (deg) at ``position``."""
    wcs = geom.wcs
    lon0, lat0 = _lonlat_in_frame(position, geom.frame)
    x, y = wcs.wcs_world2pix(lon0, lat0, 0)
    x, y = float(x), float(y)
    if not (np.isfinite(x) and np.isfinite(y)):
        x, y = (np.asarray(geom.npix, dtype=float) - 1) / 2 if hasattr(geom, "npix") else (0.0, 0.0)
        lon0, lat0 = (float(v) for v in wcs.wcs_pix2world(x, y, 0))
    dx = np.array([0.5, -0.5, 0.0, 0.0])
    dy = np.array([0.0, 0.0, 0.5, -0.5])
    lon, lat = wcs.wcs_pix2world(x + dx, y + dy, 0)
    xi, eta = _gnomonic(np.asarray(lon), np.asarray(lat), lon0, lat0)
    jac = np.array([[xi[0] - xi[1], xi[2] - xi[3]], [eta[0] - eta[1], eta[2] - eta[3]]])
    if not np.all(np.isfinite(jac)):
        scales = np.abs(wcs.wcs.cdelt)
        jac = np.diag(scales.astype(float))
    return jac


def _lonlat_arrays(skycoord, frame):
    from ..maps.coord import skycoord_to_lonlat

    lon, lat = skycoord_to_lonlat(skycoord, frame)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
