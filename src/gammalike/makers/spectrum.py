"""`SpectrumDatasetMaker`: counts, exposure, energy dispersion and background in an ON region."""
import logging

import numpy as np
import astropy.units as u
from regions import PointSkyRegion

from ..datasets import SpectrumDataset
from ..irf import EDispKernel
from ..maps import Map
from .core import Maker
from .utils import (
    _reco_energy_idx,
    angular_separation_deg,
    events_in_region_mask,
    make_counts_rad_max,
    make_map_background_irf,
    make_map_exposure_true_energy,
    make_observation_meta_table,
    region_radius_deg,
)

__all__ = ["SpectrumDatasetMaker"]

log = logging.getLogger(__name__)


class SpectrumDatasetMaker(Maker):
    """Reduce an observation to a `SpectrumDataset` in the region of a given dataset.

    Parameters
    ----------
    selection : list of str
        What to compute, among "counts", "exposure", "edisp", "background".
    containment_correction : bool
        Multiply the exposure by the fraction of the PSF inside the (circular)
        ON region at the region centre (full-enclosure IRFs only: a point-like
        IRF already contains its directional cut).
    background_oversampling : int, optional
        Energy sub-bins used to integrate the background IRF.
    use_region_center : bool
        Evaluate the IRFs at the region centre (True) or average them over the
        region, weighted by each sky pixel's fraction inside it (False).

    Examples
    --------
    >>> maker = SpectrumDatasetMaker(containment_correction=True, selection=["counts", "exposure", "edisp"])
    >>> dataset = maker.run(dataset_empty.copy(name="23523"), observation)  # doctest: +SKIP
    """

    tag = "SpectrumDatasetMaker"
    available_selection = ("counts", "background", "exposure", "edisp")

    def __init__(self, selection=None, containment_correction=False, background_oversampling=None,
                 use_region_center=True):
        if selection is None:
            selection = ("counts", "exposure", "edisp")
        if isinstance(selection, str):
            selection = [selection]
        selection = list(selection)
        unknown = set(selection) - set(self.available_selection)
        if unknown:
            raise ValueError(
                f"SpectrumDatasetMaker: unknown selection {sorted(unknown)}, "
                f"expected a subset of {list(self.available_selection)}"
            )
        if background_oversampling is not None:
            background_oversampling = int(background_oversampling)
            if background_oversampling < 1:
                raise ValueError("SpectrumDatasetMaker: background_oversampling must be >= 1")
        if containment_correction and not use_region_center:
            raise ValueError(
                "SpectrumDatasetMaker: containment_correction=True needs use_region_center=True "
                "(the PSF containment is computed around the region centre)"
            )
        self.selection = selection
        self.containment_correction = bool(containment_correction)
        self.background_oversampling = background_oversampling
        self.use_region_center = bool(use_region_center)

    # ------------------------------------------------------------------ pieces
    @staticmethod
    def make_counts(geom, observation):
        """Counts of the events inside the region, per reco-energy bin (`RegionNDMap`)."""
        events = observation.events
        rad_max = observation.rad_max
        if rad_max is not None and isinstance(geom.region, PointSkyRegion):
            return make_counts_rad_max(geom, rad_max, events, observation.get_pointing_icrs())
        inside = events_in_region_mask(events, geom.region, geom.wcs)
        axis = geom.axes["energy"]
        energy = events._column("ENERGY", u.TeV)[inside]
        idx = _reco_energy_idx(energy, axis.edges.to_value("TeV"))
        data = np.bincount(idx[idx >= 0], minlength=axis.nbin).astype(float)
        return Map.from_geom(geom, data=data.reshape(geom.data_shape), unit="")

    def make_exposure_irf(self, geom, observation):
        """Exposure ``aeff * livetime`` (`RegionNDMap`, ``meta["livetime"]``), no containment correction."""
        aeff = observation.aeff
        if aeff is None:
            raise ValueError(f"Observation {observation.obs_id}: no effective area (aeff) to compute the exposure")
        return make_map_exposure_true_energy(
            observation.get_pointing_icrs(), observation.observation_live_time_duration, aeff, geom,
            use_region_center=self.use_region_center,
        )

    def make_exposure(self, geom, observation, exposure_irf=None):
        """Exposure (`RegionNDMap`, ``meta["livetime"]``), containment-corrected if asked."""
        exposure = self.make_exposure_irf(geom, observation) if exposure_irf is None else exposure_irf.copy()
        if self.containment_correction:
            if getattr(observation.aeff, "is_pointlike", False):
                raise ValueError(
                    f"Observation {observation.obs_id}: containment correction is not possible with "
                    "point-like IRFs (the directional cut is already in the effective area)"
                )
            psf = observation.psf
            if psf is None:
                raise ValueError(f"Observation {observation.obs_id}: containment correction needs a PSF")
            radius = region_radius_deg(geom.region)
            pointing = observation.get_pointing_icrs()
            center = geom.center_skydir.icrs
            offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, center.ra.deg, center.dec.deg)
            energy = geom.axes["energy_true"].center.to_value("TeV")
            containment = psf._containment_float(radius, energy, float(offset))
            exposure.data = exposure.data * np.asarray(containment).reshape(geom.data_shape)
        return exposure

    def make_edisp_kernel(self, geom, observation, exposure_irf=None):
        """`EDispKernel` at the offset of the region centre (reco axis of the dataset).

        ``geom`` is a dict with the "true" (exposure) and "reco" (counts)
        geometries.  The kernel's ``exposure`` is the IRF exposure (its weight
        when datasets are stacked).
        """
        edisp = observation.edisp
        if edisp is None:
            raise ValueError(f"Observation {observation.obs_id}: no energy dispersion IRF")
        if isinstance(edisp, EDispKernel):
            return edisp.copy()
        pointing = observation.get_pointing_icrs()
        energy_axis_true = geom["true"].axes["energy_true"]
        energy_axis = geom["reco"].axes["energy"]
        center = geom["reco"].center_skydir.icrs
        offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, center.ra.deg, center.dec.deg)
        matrix = edisp.get_edisp_kernel_matrix(
            float(offset), energy_axis_true.edges.to_value("TeV"), energy_axis.edges.to_value("TeV")
        )
        kernel = EDispKernel(axes=[energy_axis_true, energy_axis], data=matrix)
        if exposure_irf is None and observation.aeff is not None:
            exposure_irf = self.make_exposure_irf(geom["true"], observation)
        if exposure_irf is not None:
            kernel.exposure = exposure_irf.quantity.reshape(-1).copy()
        return kernel

    def make_background(self, geom, observation):
        """Background counts predicted by the background IRF (`RegionNDMap`)."""
        bkg = observation.bkg
        if bkg is None:
            raise ValueError(f"Observation {observation.obs_id}: no background IRF for selection 'background'")
        return make_map_background_irf(
            observation.get_pointing_icrs(), observation.observation_live_time_duration, bkg, geom,
            oversampling=self.background_oversampling, use_region_center=self.use_region_center,
            observation=observation,
        )

    # ------------------------------------------------------------------ run
    def run(self, dataset, observation):
        """Reduce ``observation`` in the region and binning of ``dataset``.

        Parameters
        ----------
        dataset : `SpectrumDataset`
            Reference dataset (e.g. ``SpectrumDataset.create(...)``): its region,
            reco and true energy axes, name and safe mask are used.
        observation : `~gammalike.data.Observation`
            Observation.

        Returns
        -------
        dataset : `SpectrumDataset`
            New dataset with the selected quantities filled.
        """
        geom = dataset.counts.geom
        if geom.region is None:
            raise ValueError(f"SpectrumDatasetMaker: dataset {dataset.name!r} has no ON region")
        geom_true = dataset.exposure.geom if dataset.exposure is not None else geom.to_image().to_cube(
            [dataset.energy_axis_true or geom.axes["energy"].copy(name="energy_true")]
        )
        kwargs = dict(
            name=dataset.name, gti=observation.gti,
            meta_table=make_observation_meta_table(observation),
            mask_safe=dataset.mask_safe.copy() if dataset.mask_safe is not None else None,
            mask_fit=dataset.mask_fit.copy() if dataset.mask_fit is not None else None,
            meta=dict(getattr(dataset, "meta", {}) or {}),
        )
        if "counts" in self.selection:
            kwargs["counts"] = self.make_counts(geom, observation)
        else:
            kwargs["counts"] = dataset.counts.copy()
        exposure_irf = None
        if ("exposure" in self.selection or "edisp" in self.selection) and observation.aeff is not None:
            exposure_irf = self.make_exposure_irf(geom_true, observation)
        if "exposure" in self.selection:
            kwargs["exposure"] = self.make_exposure(geom_true, observation, exposure_irf=exposure_irf)
        elif dataset.exposure is not None:
            kwargs["exposure"] = dataset.exposure.copy()
        if "edisp" in self.selection:
            kwargs["edisp"] = self.make_edisp_kernel(
                {"true": geom_true, "reco": geom}, observation, exposure_irf=exposure_irf
            )
        elif dataset.edisp is not None:
            kwargs["edisp"] = dataset.edisp.copy()
        if "background" in self.selection:
            kwargs["background"] = self.make_background(geom, observation)
        elif getattr(dataset, "background", None) is not None:
            kwargs["background"] = dataset.background.copy()
        for key in ("TELESCOP", "INSTRUME"):
            if key in observation.meta and key not in kwargs["meta"]:
                kwargs["meta"][key] = observation.meta[key]
        return SpectrumDataset(**kwargs)
