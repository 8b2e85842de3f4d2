"""New `MapDataset` objects from parts of one: cut-outs, slices, coarser bins, padding
and the reduction to a `~gammalike.datasets.SpectrumDataset` in a region.

`MapDatasetReshapeMixin` is mixed into `~gammalike.datasets.MapDataset`.
Every method returns a new dataset without models; the map datasets are built
by ``_new``, which keeps the maps that an operation does not change.
"""
import numpy as np
from astropy import units as u

from ..irf.edisp_kernel import edisp_matrix_at
from .map_io import irf_map_classes

__all__ = ["MapDatasetReshapeMixin"]


class MapDatasetReshapeMixin:
    """Cut-outs, slices, resampling, padding and `to_spectrum_dataset` of
    `~gammalike.datasets.MapDataset`."""

    def _new(self, name=None, **kwargs):
        init = dict(counts=self.counts, exposure=self.exposure, background=self.background,
                    psf=self.psf, edisp=self.edisp, mask_safe=self.mask_safe, mask_fit=self.mask_fit,
                    gti=self.gti, meta_table=self.meta_table, meta=dict(self.meta))
        init.update(kwargs)
        return self.__class__(name=name, **init)

    def cutout(self, position, width, mode="trim", name=None):
        """Dataset cut out around ``position`` (all maps; IRF maps with their own pixels).

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            Centre.
        width : Angle, Quantity or pair
            Size of the cut-out.
        mode : {"trim", "partial"}
            See `~gammalike.maps.WcsGeom.cutout`.
        name : str, optional
            Name of the new dataset.
        """
        kwargs = {}
        for key in ("counts", "exposure", "background", "mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                fill = False if key.startswith("mask") else 0.0
                kwargs[key] = m.cutout(position=position, width=width, mode=mode, fill_value=fill)
        for key in ("psf", "edisp"):
            irf = getattr(self, key)
            if irf is not None and hasattr(irf, "cutout"):
                kwargs[key] = irf.cutout(position=position, width=width, mode=mode)
        return self._new(name=name, **kwargs)

    def slice_by_idx(self, slices, name=None):
        """Sub-dataset over index ranges of the non-spatial axes.

        Parameters
        ----------
        slices : dict
            Axis name ("energy", "energy_true") -> slice.
        """
        def cut(m):
            if m is None:
                return None
            sub = {k: v for k, v in slices.items() if k in m.geom.axes.names}
            return m.slice_by_idx(sub) if sub else m.copy()

        kwargs = {key: cut(getattr(self, key)) for key in ("counts", "background", "mask_safe", "mask_fit",
                                                            "exposure")}
        PSFMap, EDispKernelMap, EDispMap = irf_map_classes()
        if self.psf is not None:
            kwargs["psf"] = PSFMap(cut(self.psf.psf_map), cut(self.psf.exposure_map))
        if self.edisp is not None:
            edisp_cls = type(self.edisp)
            kwargs["edisp"] = edisp_cls(cut(self.edisp.edisp_map), cut(self.edisp.exposure_map))
        return self._new(name=name, **kwargs)

    def slice_by_energy(self, energy_min=None, energy_max=None, name=None):
        """Sub-dataset with the reco-energy bins inside ``[energy_min, energy_max]``."""
        edges = self.energy_axis.edges.to_value("TeV")
        lo = edges[0] if energy_min is None else u.Quantity(energy_min).to_value("TeV")
        hi = edges[-1] if energy_max is None else u.Quantity(energy_max).to_value("TeV")
        inside = np.nonzero((edges[:-1] >= lo * (1 - 1e-6)) & (edges[1:] <= hi * (1 + 1e-6)))[0]
        if inside.size == 0:
            raise ValueError(f"{self.name}: no reco-energy bin inside [{lo:.4g}, {hi:.4g}] TeV")
        return self.slice_by_idx({"energy": slice(inside[0], inside[-1] + 1)}, name=name)

    def resample_energy_axis(self, energy_axis, name=None):
        """Dataset with the reco-energy bins merged into ``energy_axis`` (edges a subset).

        Counts and background are summed over the safe bins, masks OR-ed, and
        the energy-dispersion kernel's reco axis summed with the safe bins as
        weights; true-energy maps are kept.
        """
        energy_axis = energy_axis.copy(name="energy")
        weights = None if self.mask_safe is None else np.asarray(self.mask_safe.data, dtype=float)
        kwargs = {}
        for key in ("counts", "background"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.resample_axis(energy_axis, weights=weights)
        for key in ("mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.resample_axis(energy_axis, ufunc=np.logical_or)
        if self.edisp is not None:
            kwargs["edisp"] = self._resample_edisp(energy_axis)
        return self._new(name=name, **kwargs)

    def _resample_edisp(self, energy_axis):
        edisp = self.edisp
        edisp_map = edisp.edisp_map
        if "energy" not in edisp_map.geom.axes.names:
            return edisp  # EDispMap (migra): reco binning is chosen at evaluation
        weights = None
        if self.mask_safe is not None:
            # reco bins with any safe pixel, along the kernel's reco axis
            safe = np.asarray(self.mask_safe.data, dtype=bool).any(axis=(-2, -1)).astype(float)
            shape = [1] * edisp_map.data.ndim
            shape[edisp_map.geom.axes.index_data("energy")] = safe.size
            weights = safe.reshape(shape)
        new_map = edisp_map.resample_axis(energy_axis, weights=weights)
        return type(edisp)(new_map, getattr(edisp, "exposure_map", None))

    def to_image(self, name=None):
        """Dataset with one reco-energy bin (see `resample_energy_axis`)."""
        return self.resample_energy_axis(self.energy_axis.squash(), name=name)

    def downsample(self, factor, axis_name=None, name=None):
        """Downsample spatially (``axis_name`` None) or along the reco-energy axis.

        Counts and background are summed (over safe bins), exposure averaged,
        masks OR-ed; PSF and energy-dispersion maps are kept.
        """
        if axis_name is not None:
            if axis_name != "energy":
                raise ValueError(f"MapDataset.downsample: axis_name must be None or 'energy', got {axis_name!r}")
            return self.resample_energy_axis(self.energy_axis.downsample(factor), name=name)
        weights = self.mask_safe
        kwargs = {}
        for key in ("counts", "background"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.downsample(factor, preserve_counts=True, weights=weights)
        if self.exposure is not None:
            kwargs["exposure"] = self.exposure.downsample(factor, preserve_counts=False)
        for key in ("mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.downsample(factor)
        return self._new(name=name, **kwargs)

    def pad(self, pad_width, mode="constant", name=None):
        """Dataset padded by ``pad_width`` pixels (masks padded with False)."""
        kwargs = {}
        for key in ("counts", "exposure", "background", "mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.pad(pad_width, mode=mode, cval=False if key.startswith("mask") else 0)
        return self._new(name=name, **kwargs)

    def to_spectrum_dataset(self, on_region, containment_correction=False, name=None):
        """`SpectrumDataset` of the sums inside ``on_region``.

        Counts and background are summed over the safe pixels in the region,
        the exposure is the mean exposure of the region pixels (times the PSF
        containment in the region if ``containment_correction``, circular
        regions only), the energy dispersion is taken at the region centre.
        """
        from ..irf import EDispKernel
        from ..maps.region import parse_region, region_center
        from .spectrum import SpectrumDataset

        region = parse_region(on_region)
        kwargs = {"name": name, "gti": self.gti, "meta_table": self.meta_table}
        weights = self.mask_safe
        if self.counts is not None:
            kwargs["counts"] = self.counts.to_region_nd_map(region, func=np.sum, weights=weights)
        if self.background is not None:
            kwargs["background"] = self.background.to_region_nd_map(region, func=np.sum, weights=weights)
        if self.mask_safe is not None:
            kwargs["mask_safe"] = self.mask_safe.to_region_nd_map(region, func=np.any)
        if self.mask_fit is not None:
            kwargs["mask_fit"] = self.mask_fit.to_region_nd_map(region, func=np.any)
        center = region_center(region)
        if self.exposure is not None:
            exposure = self.exposure.to_region_nd_map(region, func=np.mean)
            if containment_correction:
                exposure = exposure * self._containment(region, center)[:, np.newaxis, np.newaxis]
            if "livetime" in self.exposure.meta:
                exposure.meta["livetime"] = self.exposure.meta["livetime"]
            kwargs["exposure"] = exposure
            pdf = edisp_matrix_at(self.edisp, center, self.energy_axis, self.energy_axis_true)
            kwargs["edisp"] = EDispKernel(axes=[self.energy_axis_true, self.energy_axis], data=pdf)
        return SpectrumDataset(**kwargs)

    def _containment(self, region, center):
        radius = getattr(region, "radius", None)
        if radius is None:
            raise ValueError("to_spectrum_dataset: containment_correction needs a circular region")
        if self.psf is None:
            raise ValueError("to_spectrum_dataset: containment_correction needs a PSF")
        energy = self.energy_axis_true.center
        value = self.psf.containment(rad=u.Quantity(radius), energy_true=energy, position=center)
        return np.asarray(getattr(value, "value", value), dtype=float).reshape(-1)
