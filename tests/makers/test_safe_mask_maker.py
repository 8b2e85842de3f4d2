"""Tests of `SafeMaskMaker` (each method on synthetic datasets; the seed-003 numbers are in test_seed003.py)."""
import numpy as np
import astropy.units as u
import pytest

from gammalike.irf import EnergyDispersion2D
from gammalike.makers import SafeMaskMaker, SpectrumDatasetMaker
from gammalike.maps import Map, MapAxis, WcsGeom

from .conftest import POINTING

# reco axis of the fixture dataset: edges 0.1, 0.316, 1, 3.16, 10, 31.6, 100 TeV;
# true axis: 30 bins from 0.1 to 100 TeV (edge 10 is 1 TeV)


@pytest.fixture
def dataset(dataset_empty, observation):
    maker = SpectrumDatasetMaker(selection=["counts", "exposure", "edisp", "background"])
    return maker.run(dataset_empty.copy(name="1"), observation)


def _mask(dataset):
    return dataset.mask_safe.data.ravel().tolist()


def test_aeff_default(dataset, observation):
    # LO_THRES = 1 TeV, HI_THRES = 50 TeV (conftest): bins entirely inside [1, 50] TeV
    new = SafeMaskMaker(methods=["aeff-default"]).run(dataset, observation)
    assert _mask(new) == [False, False, True, True, True, False]


def test_aeff_max_dl4_threshold_is_lower_edge(dataset):
    exposure = np.zeros(30)
    exposure[10] = 0.05  # true bin [1, 1.26) TeV, 5 % of the maximum
    exposure[11:] = 1.0
    dataset.exposure = Map.from_geom(dataset.exposure.geom, data=exposure.reshape(dataset.exposure.geom.data_shape), unit="m2 s")
    # 1 %: the threshold is the lower edge of true bin 10 (1 TeV) -> reco bins from 1 TeV
    assert _mask(SafeMaskMaker(methods=["aeff-max"], aeff_percent=1).run(dataset)) == [False, False, True, True, True, True]
    # 10 %: lower edge of true bin 11 (1.26 TeV) -> the reco bin [1, 3.16) TeV is no longer safe
    assert _mask(SafeMaskMaker(methods=["aeff-max"], aeff_percent=10).run(dataset)) == [False, False, False, True, True, True]


def test_aeff_max_dl3_equals_dl4_without_containment(dataset, observation):
    dl4 = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10).run(dataset)
    dl3 = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10, irfs="DL3").run(dataset, observation)
    # A(E) = 1e5 m2 exp(-(0.3 / E)^1.5) > 10 % of its maximum above 0.3 / ln(10)^(2/3) = 0.172 TeV
    assert _mask(dl4) == _mask(dl3) == [False, True, True, True, True, True]


def test_edisp_bias(dataset, observation):
    edisp_irf = observation.edisp
    axis_true = edisp_irf.axes["energy_true"]
    bias = np.where(axis_true.center.to_value("TeV") < 1, 0.3, 0.0)
    observation.edisp = EnergyDispersion2D.from_gauss(
        axis_true, edisp_irf.axes["migra"], edisp_irf.axes["offset"], bias=bias, sigma=0.1
    )
    new = SafeMaskMaker(methods=["edisp-bias"], bias_percent=10, irfs="DL3").run(dataset, observation)
    # the bias is below 10 % from the true bin centred at 1.12 TeV: reco bins from 3.16 TeV
    assert _mask(new) == [False, False, False, True, True, True]
    # DL4: the same criterion on the dataset's kernel, here made from that IRF on a fine reco axis
    fine = observation.edisp.to_edisp_kernel(0.5 * u.deg)
    assert fine.get_bias_energy(0.1).to_value("TeV") == pytest.approx(axis_true.center[10].to_value("TeV"))
    dataset.edisp = fine
    assert _mask(SafeMaskMaker(methods=["edisp-bias"], bias_percent=10).run(dataset)) == _mask(new)


def test_offset_max_region(dataset, observation):
    # the ON region is 0.5 deg from the pointing
    assert not any(_mask(SafeMaskMaker(methods=["offset-max"], offset_max="0.4 deg").run(dataset, observation)))
    assert all(_mask(SafeMaskMaker(methods=["offset-max"], offset_max="0.6 deg").run(dataset, observation)))


class _MapLikeDataset:
    """The two attributes SafeMaskMaker needs from a 3D dataset."""

    def __init__(self, counts):
        self.name = "map"
        self.counts = counts
        self.mask_safe = None


def test_offset_max_wcs(observation):
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(npix=(21, 21), binsz=0.1, skydir=POINTING, proj="TAN", frame="icrs", axes=[axis])
    dataset = _MapLikeDataset(Map.from_geom(geom))
    new = SafeMaskMaker(methods=["offset-max", "aeff-default"], offset_max="0.55 deg").run(dataset, observation)
    separation = geom.separation(POINTING).deg
    expected_image = separation < 0.55
    assert new.mask_safe.data.shape == geom.data_shape
    # aeff-default: both reco bins lie in [1, 50] TeV
    assert np.array_equal(new.mask_safe.data[0], expected_image)
    assert np.array_equal(new.mask_safe.data[1], expected_image)
    assert dataset.mask_safe is None  # the input is not modified


def test_bkg_peak(dataset):
    background = np.array([1.0, 5.0, 9.0, 3.0, 1.0, 0.5])
    dataset.background = Map.from_geom(dataset.counts.geom, data=background.reshape(dataset.counts.geom.data_shape))
    new = SafeMaskMaker(methods=["bkg-peak"]).run(dataset)
    assert _mask(new) == [False, False, True, True, True, True]


def test_methods_are_combined(dataset, observation):
    maker = SafeMaskMaker(methods=["aeff-default", "aeff-max"], aeff_percent=10)
    assert _mask(maker.run(dataset, observation)) == [False, False, True, True, True, False]


def test_run_returns_new_dataset(dataset, observation):
    before = _mask(dataset)
    new = SafeMaskMaker(methods=["aeff-default"]).run(dataset, observation)
    assert new is not dataset
    assert _mask(dataset) == before
    assert new.counts is dataset.counts


def test_validation(dataset):
    with pytest.raises(ValueError, match="unknown methods"):
        SafeMaskMaker(methods=["aeff-min"])
    with pytest.raises(ValueError, match="irfs"):
        SafeMaskMaker(irfs="DL5")
    with pytest.raises(ValueError, match="aeff_percent"):
        SafeMaskMaker(aeff_percent=150)
    with pytest.raises(ValueError, match="needs the observation"):
        SafeMaskMaker(methods=["aeff-default"]).run(dataset)
    with pytest.raises(ValueError, match="position or fixed_offset"):
        SafeMaskMaker(position=POINTING, fixed_offset="0.5 deg")
