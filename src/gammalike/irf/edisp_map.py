"""Energy dispersion maps: `EDispKernelMap` (reco x true energy matrices on a sky
grid) and `EDispMap` (migration ``E_reco / E_true`` densities on a sky grid).

Both keep the exposure they were averaged with (HDUs ``EDISP_EXPOSURE``) so
that stacked datasets get the exposure-weighted mean response. In MapDataset
files both use the HDU name "EDISP"; `read_edisp_map_from_hdulist` picks the
class from the axes (``migra`` -> `EDispMap`, ``energy`` -> `EDispKernelMap`).
"""
import numpy as np
import astropy.units as u

from ..maps import Map, MapAxis, WcsGeom
from .edisp_kernel import EDispKernel
from .irf_map import IRFMap

__all__ = ["EDispKernelMap", "EDispMap", "read_edisp_map_from_hdulist"]


def _default_geom():
    """All-sky 2 x 1 grid, as in the Fermi-LAT dataset files."""
    return WcsGeom.create(npix=(2, 1), binsz=180, proj="CAR", frame="icrs")


def _axis_key(axis):
    return (axis.name, tuple(np.round(axis._edges, 12)), axis.unit.to_string())


def _resample_matrix(data, energy_axis_old, energy_axis_new, axis=1):
    """Sum reco-energy bins of ``data`` along ``axis`` into the (aligned) coarser axis."""
    if energy_axis_old.is_allclose(energy_axis_new):
        return data
    old = energy_axis_old.edges.to_value("TeV")
    new = energy_axis_new.edges.to_value("TeV")
    idx = np.array([np.argmin(np.abs(np.log(old / e))) for e in new])
    if not np.allclose(old[idx], new, rtol=1e-3) or np.any(np.diff(idx) <= 0):
        raise ValueError(
            "EDispKernelMap: the requested reco energy edges are not a subset of the map's "
            f"edges ({old[0]:.4g} - {old[-1]:.4g} TeV, {len(old) - 1} bins)"
        )
    summed = np.add.reduceat(data, idx[:-1], axis=axis)
    return summed


class _EDispMapBase(IRFMap):
    """What `EDispKernelMap` and `EDispMap` share: the "EDISP" HDU name, the
    `edisp_map` accessor and `peek` (drawn from the subclass' ``get_edisp_kernel``)."""

    hdu_name = "EDISP"

    @property
    def edisp_map(self):
        """The energy-dispersion map: kernels (axes energy, energy_true) for
        `EDispKernelMap`, migration densities (axes migra, energy_true) for `EDispMap`."""
        return self._irf_map

    @edisp_map.setter
    def edisp_map(self, value):
        self._set_irf_map(value)

    def peek(self, figsize=(15, 5)):
        """Kernel at the map centre (matrix, bias) and the exposure vs true energy."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=figsize)
        kernel = self.get_edisp_kernel()
        kernel.plot_matrix(ax=axes[0], add_cbar=True)
        kernel.plot_bias(ax=axes[1])
        _plot_exposure(self._exposure_map, self.energy_axis_true, axes[2])
        plt.tight_layout()
        return axes


class EDispKernelMap(_EDispMapBase):
    """Energy dispersion matrices on a sky grid, with their exposure.

    Parameters
    ----------
    edisp_kernel_map : `~gammalike.maps.Map`
        Map with axes ``energy`` (reco) and ``energy_true``: probability of
        each reco bin for each true bin (data shape (n_true, n_reco, ny, nx)).
    exposure_map : `~gammalike.maps.Map`, optional
        Exposure with axes ``energy`` (one bin) and ``energy_true``.
    """

    tag = "edisp_kernel_map"
    required_axes = ("energy", "energy_true")

    def __init__(self, edisp_kernel_map, exposure_map=None):
        super().__init__(edisp_kernel_map, exposure_map)
        names = self._irf_map.geom.axes.names
        if names.index("energy") > names.index("energy_true"):
            raise ValueError(
                f"EDispKernelMap: expected the axes in the order ['energy', 'energy_true'], got {names}"
            )

    @property
    def energy_axis(self):
        return self._irf_map.geom.axes["energy"]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_edisp_kernel(cls, edisp, geom=None):
        """The same kernel in every pixel of ``geom`` (default: all-sky 2 x 1 grid)."""
        geom = _default_geom() if geom is None else geom.to_image()
        geom = geom.to_cube([edisp.energy_axis, edisp.energy_axis_true])
        data = np.broadcast_to(edisp.pdf_matrix[:, :, None, None], geom.data_shape).copy()
        return cls(Map.from_geom(geom, data=data, dtype=float))

    @classmethod
    def from_diagonal_response(cls, energy_axis, energy_axis_true=None, geom=None):
        """Perfect energy resolution (see `EDispKernel.from_diagonal_response`)."""
        if energy_axis_true is None:
            energy_axis_true = energy_axis.copy(name="energy_true")
        edisp = EDispKernel.from_diagonal_response(energy_axis_true, energy_axis)
        return cls.from_edisp_kernel(edisp, geom=geom)

    @classmethod
    def from_geom(cls, geom):
        """Diagonal response on ``geom`` (axes energy and energy_true), zero exposure."""
        kernel = cls.from_diagonal_response(
            geom.axes["energy"], geom.axes["energy_true"], geom=geom
        )
        exposure = Map.from_geom(geom.squash("energy"), unit="m2 s", dtype=float)
        return cls(kernel.edisp_map, exposure)

    @classmethod
    def from_gauss(cls, energy_axis, energy_axis_true, sigma, bias, pdf_threshold=1e-6, geom=None):
        """Gaussian migration in every pixel (see `EDispKernel.from_gauss`)."""
        edisp = EDispKernel.from_gauss(
            energy_axis_true=energy_axis_true, energy_axis=energy_axis, sigma=sigma, bias=bias,
            pdf_threshold=pdf_threshold,
        )
        return cls.from_edisp_kernel(edisp, geom=geom)

    # ------------------------------------------------------------------ kernels
    def get_edisp_kernel(self, position=None, energy_axis=None):
        """`EDispKernel` at a position (nearest spatial bin with exposure).

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`, optional
            Position (default: the map centre). Ignored for a single spatial bin.
        energy_axis : `~gammalike.maps.MapAxis`, optional
            Reco energy axis of the kernel; its edges must be a subset of the
            map's (bins are summed).
        """
        iy, ix = self._spatial_index(position)
        target = self.energy_axis if energy_axis is None else energy_axis
        key = ("edisp_kernel", iy, ix, _axis_key(target))

        def compute():
            data = np.nan_to_num(np.asarray(self._irf_map.data[:, :, iy, ix], dtype=float))
            data = _resample_matrix(data, self.energy_axis, target, axis=1)
            return EDispKernel(axes=[self.energy_axis_true, target.copy(name="energy")], data=data)

        return self._cache_get(key, compute).copy()

    def resample_energy_axis(self, energy_axis, weights=None):
        """Map with reco bins summed into the coarser ``energy_axis`` (aligned edges).

        Parameters
        ----------
        energy_axis : `~gammalike.maps.MapAxis`
            New reco energy axis.
        weights : `~gammalike.maps.Map` or array, optional
            Weights (e.g. a safe mask per reco bin) broadcastable to the data.
        """
        data = np.nan_to_num(np.asarray(self._irf_map.data, dtype=float))
        if weights is not None:
            data = data * np.asarray(getattr(weights, "data", weights), dtype=float)
        data = _resample_matrix(data, self.energy_axis, energy_axis, axis=1)
        geom = self._irf_map.geom.replace_axis(energy_axis.copy(name="energy"))
        irf = Map.from_geom(geom, data=data, dtype=float)
        return self.__class__(irf, self._resampled_exposure(energy_axis))

    def _resampled_exposure(self, energy_axis):
        exposure = self._exposure_map
        if exposure is None:
            return None
        axis = energy_axis.copy(name="energy").squash()
        geom = exposure.geom.replace_axis(axis)
        return exposure.__class__(geom, data=exposure.data, unit=exposure.unit)

    def to_image(self, weights=None):
        """Map summed over reco energy (one reco bin)."""
        return self.resample_energy_axis(self.energy_axis.squash(), weights=weights)


class EDispMap(_EDispMapBase):
    """Migration densities ``dP/dmigra`` (``migra = E_reco / E_true``) on a sky grid.

    Parameters
    ----------
    edisp_map : `~gammalike.maps.Map`
        Map with axes ``migra`` and ``energy_true`` (data shape (n_true, n_migra, ny, nx)).
    exposure_map : `~gammalike.maps.Map`, optional
        Exposure with axes ``migra`` (one bin) and ``energy_true``.
    """

    tag = "edisp_map"
    required_axes = ("migra", "energy_true")
    _axis_renames = {"energy": "energy_true"}

    @property
    def migra_axis(self):
        return self._irf_map.geom.axes["migra"]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_diagonal_response(cls, energy_axis_true, migra_axis=None, geom=None):
        """Perfect resolution: all probability in the migra bin containing 1."""
        if migra_axis is None:
            migra_axis = MapAxis.from_bounds(0.2, 5, nbin=150, interp="log", name="migra")
        geom = _default_geom() if geom is None else geom.to_image()
        geom = geom.to_cube([migra_axis, energy_axis_true.copy(name="energy_true")])
        edges = migra_axis.edges.to_value("")
        idx = int(np.clip(np.searchsorted(edges, 1.0, side="right") - 1, 0, migra_axis.nbin - 1))
        values = np.zeros(migra_axis.nbin)
        values[idx] = 1.0 / (edges[idx + 1] - edges[idx])
        data = np.broadcast_to(values[None, :, None, None], geom.data_shape).copy()
        return cls(Map.from_geom(geom, data=data, dtype=float))

    @classmethod
    def from_geom(cls, geom):
        """Diagonal response on ``geom`` (axes migra and energy_true), zero exposure."""
        edisp = cls.from_diagonal_response(geom.axes["energy_true"], geom.axes["migra"], geom=geom)
        exposure = Map.from_geom(geom.squash("migra"), unit="m2 s", dtype=float)
        return cls(edisp.edisp_map, exposure)

    @classmethod
    def from_edisp_irf(cls, edisp, geom, pointing=None, exposure_map=None):
        """Migration map from a DL3 `EnergyDispersion2D` (offset = separation from ``pointing``).

        ``geom`` must have the axes migra and energy_true.
        """
        migra = geom.axes["migra"].center
        energy = geom.axes["energy_true"].center
        if pointing is None:
            offset = np.zeros(geom.data_shape[-2:])
        else:
            offset = geom.to_image().separation(pointing).to_value("deg")
        values = edisp.evaluate(
            migra=migra[None, :, None, None], energy_true=energy[:, None, None, None],
            offset=u.Quantity(offset[None, None], "deg"),
        )
        data = np.broadcast_to(u.Quantity(values).to_value(""), geom.data_shape)
        return cls(Map.from_geom(geom, data=np.array(data, dtype=float)), exposure_map)

    # ------------------------------------------------------------------ kernels
    def _cdf_at_edges(self, data):
        """Cumulative probability at the migra edges, along axis 1 (n_true, n_migra + 1, ...)."""
        axis = self.migra_axis
        edges = axis.edges.to_value("")
        widths = np.diff(edges).reshape((1, -1) + (1,) * (data.ndim - 2))
        cdf = np.zeros((data.shape[0], data.shape[1] + 1) + data.shape[2:])
        cdf[:, 1:] = np.cumsum(data * widths, axis=1)
        return edges, cdf

    def _migra_bounds(self, energy_axis):
        """Migra values of the reco edges for each true-energy centre (n_true, n_reco + 1)."""
        e_true = self.energy_axis_true.center.to_value("TeV")
        e_reco = energy_axis.edges.to_value("TeV")
        return e_reco[None, :] / e_true[:, None]

    def _integrate(self, data, energy_axis):
        """Kernel matrices (n_true, n_reco, ...) from migra densities (n_true, n_migra, ...)."""
        data = np.nan_to_num(np.asarray(data, dtype=float))
        edges, cdf = self._cdf_at_edges(data)
        bounds = self._migra_bounds(energy_axis)
        n = edges.size
        idx = np.clip(np.searchsorted(edges, bounds, side="right") - 1, 0, n - 2)
        w = np.clip((bounds - edges[idx]) / (edges[idx + 1] - edges[idx]), 0, 1)
        rows = np.arange(cdf.shape[0])[:, None]
        extra = (1,) * (data.ndim - 2)
        w = w.reshape(w.shape + extra)
        values = cdf[rows, idx] * (1 - w) + cdf[rows, idx + 1] * w
        return np.clip(np.diff(values, axis=1), 0, None)

    def get_edisp_kernel(self, position=None, energy_axis=None):
        """`EDispKernel` at a position: migra densities integrated over the reco bins.

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`, optional
            Position (default: the map centre).
        energy_axis : `~gammalike.maps.MapAxis`, optional
            Reco energy axis (default: the true energy axis renamed "energy").
        """
        if energy_axis is None:
            energy_axis = self.energy_axis_true.copy(name="energy")
        iy, ix = self._spatial_index(position)
        key = ("edisp_kernel", iy, ix, _axis_key(energy_axis))

        def compute():
            data = self._integrate(self._irf_map.data[:, :, iy, ix], energy_axis)
            return EDispKernel(axes=[self.energy_axis_true, energy_axis.copy(name="energy")], data=data)

        return self._cache_get(key, compute).copy()

    def to_edisp_kernel_map(self, energy_axis):
        """`EDispKernelMap` with the reco ``energy_axis`` (all pixels at once)."""
        energy_axis = energy_axis.copy(name="energy")
        data = self._integrate(self._irf_map.data, energy_axis)
        geom = self._irf_map.geom.to_image().to_cube([energy_axis, self.energy_axis_true])
        kernel_map = Map.from_geom(geom, data=data, dtype=float)
        exposure = None
        if self._exposure_map is not None:
            exp_geom = self._exposure_map.geom.to_image().to_cube(
                [energy_axis.squash(), self.energy_axis_true]
            )
            exposure = self._exposure_map.__class__(
                exp_geom, data=self._exposure_map.data, unit=self._exposure_map.unit
            )
        return EDispKernelMap(kernel_map, exposure)

    def normalize(self):
        """Normalise each migra density to unit integral in place."""
        data = np.nan_to_num(np.asarray(self._irf_map.data, dtype=float))
        _, cdf = self._cdf_at_edges(data)
        norm = cdf[:, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            data = np.where(norm > 0, data / norm, 0)
        self._irf_map = self._irf_map._init_copy(data=data)
        self._clear_cache()

    def sample_coord(self, map_coord, random_state=0):
        """Copy of ``map_coord`` with a reco ``energy`` drawn from the migration at each event.

        ``map_coord`` needs positions and ``energy_true``.
        """
        from ..maps import MapCoord

        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        coords = MapCoord.create(map_coord).broadcasted
        energy = np.asarray(u.Quantity(coords["energy_true"], "TeV").value, dtype=float).ravel()
        geom = self._irf_map.geom
        if self.has_single_spatial_bin:
            iy = ix = np.zeros(energy.size, dtype=int)
        else:
            idx = geom.to_image().coord_to_idx({"lon": coords.lon.ravel(), "lat": coords.lat.ravel()}, clip=True)
            ix, iy = idx[0], idx[1]
        it = self.energy_axis_true.coord_to_idx(u.Quantity(energy, "TeV"), clip=True)
        data = np.nan_to_num(np.asarray(self._irf_map.data, dtype=float))
        density = data[it, :, iy, ix]  # (n, n_migra)
        edges, cdf = self._cdf_at_edges(density)
        total = cdf[:, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.where(total > 0, cdf / total, 0)
        q = rng.uniform(size=energy.size)
        j = np.clip((cdf < q[:, None]).sum(axis=1), 1, edges.size - 1)
        rows = np.arange(energy.size)
        c0, c1 = cdf[rows, j - 1], cdf[rows, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(c1 > c0, (q - c0) / (c1 - c0), 0.5)
        migra = edges[j - 1] + t * (edges[j] - edges[j - 1])
        out = dict(coords.items())
        out["energy"] = u.Quantity((migra * energy).reshape(coords.shape), "TeV")
        return MapCoord(out, frame=coords.frame)


def read_edisp_map_from_hdulist(hdulist, hdu="EDISP", format="gadf"):
    """`EDispMap` (migra axis) or `EDispKernelMap` (reco energy axis) from an HDU list."""
    names = [h.name for h in hdulist]
    hdu = hdu.upper()
    if hdu not in names:
        raise KeyError(f"EDISP map: HDU {hdu!r} not found (HDUs: {names})")
    header = hdulist[hdu].header
    bands = header.get("BANDSHDU", f"{hdu}_BANDS")
    axcols = " ".join(
        str(v) for k, v in (hdulist[bands].header if bands in names else header).items()
        if k.startswith("AXCOLS")
    ).upper()
    if "MIGRA" in axcols:
        return EDispMap.from_hdulist(hdulist, hdu=hdu, format=format)
    return EDispKernelMap.from_hdulist(hdulist, hdu=hdu, format=format)


def _plot_exposure(exposure_map, energy_axis_true, ax):
    exposure = None
    if exposure_map is not None:
        exposure = np.asarray(exposure_map.data, dtype=float)
        exposure = exposure.reshape(exposure.shape[0], -1).mean(axis=1)
    if exposure is None or not np.any(exposure):
        # an all-zero line says nothing: say that there is no exposure instead
        ax.text(0.5, 0.5, "no exposure stored with this IRF map", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    ax.plot(energy_axis_true.center.to_value("TeV"), exposure)
    ax.set_xscale("log")
    ax.set_xlabel("True energy [TeV]")
    ax.set_ylabel(f"Mean exposure [{exposure_map.unit}]")
    return ax
