"""Tests of `SpectrumDatasetMaker` on a synthetic observation (tests/makers/conftest.py)."""
import numpy as np
import astropy.units as u
import pytest
from regions import PointSkyRegion

from gammalike.datasets import SpectrumDataset
from gammalike.irf import RadMax2D
from gammalike.makers import SpectrumDatasetMaker
from gammalike.maps import MapAxis, RegionGeom

from .conftest import BKG_RATE, LIVETIME, TARGET


def _aeff_closed_form(energy_tev):
    # EffectiveAreaTable2D.from_parametrization("HESS"): 1e5 m2 * exp(-(0.3 TeV / E)^1.5)
    return 1e5 * np.exp(-((0.3 / energy_tev) ** 1.5))


def test_counts(dataset_empty, observation):
    maker = SpectrumDatasetMaker(selection=["counts"])
    dataset = maker.run(dataset_empty.copy(name="1"), observation)
    # 3 ON events (1.5, 2, 5 TeV) in reco bins [1, 3.16) and [3.16, 10) TeV; the
    # events 0.12 and 0.2 deg from the target are outside the 0.1 deg circle
    assert dataset.counts.data.ravel().tolist() == [0, 0, 2, 1, 0, 0]
    assert isinstance(dataset, SpectrumDataset)
    assert dataset.name == "1"


def test_exposure_and_livetime(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["exposure"]).run(dataset_empty.copy(name="1"), observation)
    energy = dataset.exposure.geom.axes["energy_true"].center.to_value("TeV")
    expected = _aeff_closed_form(energy) * LIVETIME  # m2 s, aeff constant in offset
    assert u.Unit(dataset.exposure.unit) == u.Unit("m2 s")
    assert np.allclose(dataset.exposure.data.ravel(), expected, rtol=1e-6, atol=0)
    assert dataset.livetime.to_value("s") == pytest.approx(LIVETIME)
    assert dataset.meta_table["OBS_ID"][0] == 1


def test_containment_correction(dataset_empty, observation):
    plain = SpectrumDatasetMaker(selection=["exposure"]).run(dataset_empty.copy(name="a"), observation)
    corrected = SpectrumDatasetMaker(selection=["exposure"], containment_correction=True).run(
        dataset_empty.copy(name="b"), observation
    )
    ratio = corrected.exposure.data.ravel() / plain.exposure.data.ravel()
    # Gaussian PSF sigma = 0.1 deg: containment within r = 0.1 deg is 1 - exp(-r^2 / 2 sigma^2)
    # (PSF3D tabulated in 0.01 deg rad bins: midpoint-rule error ~1e-3)
    assert np.allclose(ratio, 1 - np.exp(-0.5), rtol=3e-3, atol=0)


def test_edisp_kernel(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["edisp", "exposure"]).run(dataset_empty.copy(name="1"), observation)
    edisp = dataset.edisp
    assert edisp.energy_axis == dataset.energy_axis
    assert edisp.energy_axis_true == dataset.energy_axis_true
    expected = observation.edisp.to_edisp_kernel(
        0.5 * u.deg, energy_axis_true=dataset.energy_axis_true, energy_axis=dataset.energy_axis
    )
    assert np.allclose(edisp.data, expected.data, atol=1e-3)
    # Gaussian migration of width 0.1: true energies well inside the reco range are
    # reconstructed somewhere in it
    rows = edisp.data.sum(axis=1)
    center = dataset.energy_axis_true.center.to_value("TeV")
    assert np.allclose(rows[(center > 0.3) & (center < 30)], 1, atol=1e-3)
    # the kernel carries the IRF exposure (its weight when stacking)
    assert np.allclose(edisp.exposure.to_value("m2 s"), dataset.exposure.data.ravel(), rtol=1e-6, atol=0)


def test_background(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["background"]).run(dataset_empty.copy(name="1"), observation)
    edges = dataset.energy_axis.edges.to_value("MeV")
    solid_angle = 2 * np.pi * (1 - np.cos(np.radians(0.1)))
    # constant rate: rate * dE * solid angle * livetime (the log-log integral of a constant is exact)
    expected = BKG_RATE * np.diff(edges) * solid_angle * LIVETIME
    assert np.allclose(dataset.background.data.ravel(), expected, rtol=1e-6, atol=0)


def test_use_region_center_false(dataset_empty, observation):
    center = SpectrumDatasetMaker(selection=["exposure"]).run(dataset_empty.copy(name="a"), observation)
    averaged = SpectrumDatasetMaker(selection=["exposure"], use_region_center=False).run(
        dataset_empty.copy(name="b"), observation
    )
    # the effective area does not depend on offset: the average equals the centre value
    assert np.allclose(averaged.exposure.data, center.exposure.data, rtol=1e-6, atol=0)


def test_pointlike_rad_max(observation):
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=6, name="energy")
    geom = RegionGeom.create(region=PointSkyRegion(TARGET), axes=[energy])
    empty = SpectrumDataset.create(geom=geom)
    offset = MapAxis.from_edges([0, 3], unit="deg", name="offset")
    energy_cut = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=1, name="energy")
    # ON events sit 0, 0.01 and 0.02 deg from the target: a 0.015 deg cut keeps two
    observation.rad_max = RadMax2D(axes=[energy_cut, offset], data=np.full((1, 1), 0.015), unit="deg")
    dataset = SpectrumDatasetMaker(selection=["counts"]).run(empty.copy(name="p"), observation)
    assert dataset.counts.data.sum() == 2


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown selection"):
        SpectrumDatasetMaker(selection=["counts", "psf"])
    with pytest.raises(ValueError, match="use_region_center"):
        SpectrumDatasetMaker(containment_correction=True, use_region_center=False)
    maker = SpectrumDatasetMaker()
    assert maker.selection == ["counts", "exposure", "edisp"]
    assert "containment_correction" in str(maker)


def test_containment_correction_refused_for_pointlike(dataset_empty, observation):
    observation.aeff.is_pointlike = True
    maker = SpectrumDatasetMaker(selection=["exposure"], containment_correction=True)
    with pytest.raises(ValueError, match="point-like"):
        maker.run(dataset_empty.copy(name="1"), observation)
