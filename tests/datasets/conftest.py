"""Synthetic spectrum datasets shared by the dataset tests."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammalike.irf import EDispKernel
from gammalike.maps import MapAxis, RegionGeom, RegionNDMap


def _spectrum_parts(n_reco=6, n_true=12, livetime=1000.0, aeff=1e9, seed=0):
    """Reco geometry, exposure (aeff [cm2] * livetime) and a diagonal edisp."""
    energy_axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=n_reco)
    energy_axis_true = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=n_true, name="energy_true")
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.1)", axes=[energy_axis])
    geom_true = geom.to_image().to_cube([energy_axis_true])
    exposure = RegionNDMap.from_geom(geom_true, unit="cm2 s", data=np.full(geom_true.data_shape, aeff * livetime))
    exposure.meta["livetime"] = livetime * u.s
    edisp = EDispKernel.from_diagonal_response(energy_axis_true, energy_axis)
    rng = np.random.default_rng(seed)
    return geom, exposure, edisp, rng


@pytest.fixture
def make_spectrum_dataset():
    """Factory: SpectrumDataset with Poisson counts over a flat background."""

    def make(name="test", background=5.0, seed=0, **kwargs):
        geom, exposure, edisp, rng = _spectrum_parts(seed=seed, **kwargs)
        counts = RegionNDMap.from_geom(geom, data=rng.poisson(20, geom.data_shape).astype(float))
        bkg = RegionNDMap.from_geom(geom, data=np.full(geom.data_shape, background))
        return SpectrumDataset(
            counts=counts, exposure=exposure, background=bkg, edisp=edisp, name=name,
        )

    return make


@pytest.fixture
def make_onoff_dataset():
    """Factory: SpectrumDatasetOnOff with Poisson ON and OFF counts, alpha = 0.2."""

    def make(name="onoff", alpha=0.2, seed=0, **kwargs):
        geom, exposure, edisp, rng = _spectrum_parts(seed=seed, **kwargs)
        counts = RegionNDMap.from_geom(geom, data=rng.poisson(20, geom.data_shape).astype(float))
        counts_off = RegionNDMap.from_geom(geom, data=rng.poisson(40, geom.data_shape).astype(float))
        mask = np.ones(geom.data_shape, dtype=bool)
        return SpectrumDatasetOnOff(
            counts=counts, counts_off=counts_off, exposure=exposure, edisp=edisp,
            acceptance=1, acceptance_off=1 / alpha, mask_safe=mask, name=name,
        )

    return make
