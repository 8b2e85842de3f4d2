"""Tests of `ExcessMapEstimator` (gammalike.estimators.map.excess)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammalike.datasets import MapDataset
from gammalike.datasets.map_onoff import MapDatasetOnOff
from gammalike.estimators.map import ExcessMapEstimator, FluxMaps
from gammalike.estimators.map.dataset_images import correlate, disk_kernel, energy_groups
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import PowerLawSpectralModel, SkyModel, ConstantSpatialModel
from gammalike.stats import CashCountsStatistic, WStatCountsStatistic

# 0.05 deg radius on 0.02 deg pixels = 2.5 pixels: the disk holds the pixels with
# x^2 + y^2 <= 6.25: the centre, 4 x 2 on the axes, 4 diagonal (1, 1), 8 at (1, 2) -> 21
N_DISK = 21


def _dataset(counts=3.0, background=2.0, exposure=1e10, nbin=2):
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin, name="energy")
    energy_true = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin, name="energy_true")
    geom = WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), npix=(40, 30), binsz=0.02,
                          frame="galactic", axes=[energy])
    dataset = MapDataset.create(geom, energy_axis_true=energy_true, name="test")
    dataset.counts = Map.from_geom(geom, data=np.full(geom.data_shape, counts))
    dataset.background = Map.from_geom(geom, data=np.full(geom.data_shape, background))
    dataset.exposure = Map.from_geom(dataset.exposure.geom, data=np.full(dataset.exposure.geom.data_shape, exposure),
                                     unit="cm2 s")
    dataset.mask_safe = np.ones(geom.data_shape, bool)
    dataset.edisp = None
    return dataset


def test_disk_kernel_and_correlate():
    kernel = disk_kernel(2.5)
    assert kernel.sum() == N_DISK
    image = np.zeros((9, 9))
    image[4, 4] = 1.0
    # correlating a delta gives the (symmetric) kernel back; edges see fewer pixels
    np.testing.assert_allclose(correlate(image, kernel)[2:7, 2:7], kernel)
    ones = np.ones((9, 9))
    # a corner sees the quarter disk: (0,0), (1,0), (2,0), (0,1), (0,2), (1,1), (1,2), (2,1)
    assert correlate(ones, kernel)[0, 0] == 8
    large = disk_kernel(7.2)  # FFT path: same sums as the direct one
    out = correlate(ones, large)
    assert out[4, 4] == pytest.approx(np.sum(large[7 - 4:7 + 5, 7 - 4:7 + 5]), abs=1e-9)


def test_energy_groups_snap_to_dataset_edges():
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", 20, name="energy")
    matrix, out = energy_groups(axis, [0.2, 20] * u.TeV)
    # dataset edges 10^(-1 + 0.15 k); bins whose log centre lies inside [0.2, 20] TeV:
    # k = 2 (0.1995 TeV) to k = 15 (17.78 TeV; the next bin's centre is 21.1 TeV)
    assert matrix.sum() == 13
    np.testing.assert_allclose(out.edges.to_value("TeV"), [10 ** -0.7, 10 ** 1.25], rtol=1e-9)
    matrix, out = energy_groups(axis, [0.2, 20] * u.TeV, sum_over_energy_groups=False)
    assert out.nbin == 13
    with pytest.raises(ValueError, match="no reco-energy bin"):
        energy_groups(axis, [200, 300] * u.TeV)


def test_cash_significance_closed_form():
    dataset = _dataset()
    maps = ExcessMapEstimator("0.05 deg", selection_optional="all").run(dataset)
    assert isinstance(maps, FluxMaps)
    n_on, mu = N_DISK * 6.0, N_DISK * 4.0  # 2 energy bins of 3 counts / 2 background per pixel
    # Li & Ma (1983) eq. 17 with a known background: sqrt(2 (n log(n / mu) - (n - mu)))
    expected = np.sqrt(2 * (n_on * np.log(n_on / mu) - (n_on - mu)))
    centre = (0, 15, 20)
    assert maps["counts"].data[centre] == pytest.approx(n_on)
    assert maps["npred"].data[centre] == pytest.approx(mu)
    assert maps["background"].data[centre] == pytest.approx(mu)
    assert maps["npred_excess"].data[centre] == pytest.approx(n_on - mu)
    assert maps["sqrt_ts"].data[centre] == pytest.approx(expected, rel=1e-10, abs=0)
    assert maps["ts"].data[centre] == pytest.approx(expected ** 2, rel=1e-10, abs=0)
    # flux: excess / counts of the reference power law at norm 1 (exposure 1e10 cm2 s
    # per true-energy bin, flux 1e-12 (1/1 - 1/10) cm-2 s-1 over 1-10 TeV)
    ref_counts = 1e-12 * 0.9 * 1e10
    assert maps["norm"].data[centre] == pytest.approx((n_on - mu) / ref_counts, rel=1e-10, abs=0)
    assert maps["flux"].data[centre] == pytest.approx((n_on - mu) / 1e10, rel=1e-10, abs=0)
    stat = CashCountsStatistic(n_on, mu)
    assert maps["norm_err"].data[centre] * ref_counts == pytest.approx(stat.error, rel=1e-10, abs=0)
    assert maps["norm_errn"].data[centre] * ref_counts == pytest.approx(-stat.compute_errn(1), rel=1e-8, abs=0)
    assert maps["norm_errp"].data[centre] * ref_counts == pytest.approx(stat.compute_errp(1), rel=1e-8, abs=0)
    assert maps["norm_ul"].data[centre] * ref_counts == pytest.approx(stat.compute_upper_limit(2), rel=1e-8, abs=0)
    assert maps["counts"].data[0, 0, 0] == pytest.approx(8 * 6.0)  # the quarter disk at a corner


def test_models_enter_the_null_hypothesis():
    dataset = _dataset()
    model = SkyModel(spectral_model=PowerLawSpectralModel(index=2, amplitude="1e-8 cm-2 s-1 TeV-1"),
                     spatial_model=ConstantSpatialModel(value="1 sr-1"), name="diffuse")
    dataset.models = [model]
    npred = dataset.npred().data
    assert np.all(npred > 2.0)  # the model adds counts to the background
    maps = ExcessMapEstimator("0.05 deg").run(dataset)
    expected = correlate(npred[:, :, :].sum(axis=0), disk_kernel(2.5))
    np.testing.assert_allclose(maps["npred"].data[0], expected, rtol=1e-10)
    stat = CashCountsStatistic(N_DISK * 6.0, expected[15, 20])
    assert maps["sqrt_ts"].data[0, 15, 20] == pytest.approx(stat.sqrt_ts, rel=1e-10, abs=0)
    # the background map stays the background alone
    assert maps["background"].data[0, 15, 20] == pytest.approx(N_DISK * 4.0)


def test_mask_and_energy_groups():
    dataset = _dataset(nbin=4)
    mask = np.ones(dataset.counts.data.shape, bool)
    mask[:, :, :5] = False  # 5 columns unsafe
    mask[0] = False  # first energy bin unsafe everywhere
    dataset.mask_safe = mask
    edges = dataset.counts.geom.axes["energy"].edges
    maps = ExcessMapEstimator("0.05 deg", energy_edges=edges[[0, 2, 4]]).run(dataset)
    assert maps.energy_axis.nbin == 2
    assert np.isnan(maps["sqrt_ts"].data[:, 10, 2]).all()
    # group 1: only the second bin is safe; group 2: two bins
    assert maps["counts"].data[0, 15, 20] == pytest.approx(N_DISK * 3)
    assert maps["counts"].data[1, 15, 20] == pytest.approx(N_DISK * 6)
    # next to the unsafe columns the disk loses the masked pixels (column 5: 3 + 2 + 1 of 21... )
    assert maps["counts"].data[1, 15, 5] < N_DISK * 6
    per_bin = ExcessMapEstimator("0.05 deg", sum_over_energy_groups=False).run(dataset)
    assert per_bin.energy_axis.nbin == 4
    assert np.isnan(per_bin["sqrt_ts"].data[0]).all()


def _onoff(alpha=0.25):
    base = _dataset()
    geom = base.counts.geom
    counts_off = Map.from_geom(geom, data=np.full(geom.data_shape, 8.0))
    return MapDatasetOnOff(counts=base.counts, counts_off=counts_off,
                           acceptance=Map.from_geom(geom, data=np.ones(geom.data_shape)),
                           acceptance_off=Map.from_geom(geom, data=np.full(geom.data_shape, 1 / alpha)),
                           exposure=base.exposure, mask_safe=base.mask_safe, name="onoff")


def test_onoff_li_ma_closed_form():
    dataset = _onoff()
    maps = ExcessMapEstimator("0.05 deg", selection_optional=["ul"]).run(dataset)
    n_on, n_off, alpha = N_DISK * 6.0, N_DISK * 16.0, 0.25
    # Li & Ma (1983) eq. 17
    term_on = n_on * np.log((1 + alpha) / alpha * n_on / (n_on + n_off))
    term_off = n_off * np.log((1 + alpha) * n_off / (n_on + n_off))
    expected = np.sqrt(2 * (term_on + term_off))
    centre = (0, 15, 20)
    assert maps["alpha"].data[centre] == pytest.approx(alpha)
    assert maps["counts_off"].data[centre] == pytest.approx(n_off)
    assert maps["background"].data[centre] == pytest.approx(alpha * n_off)
    assert maps["sqrt_ts"].data[centre] == pytest.approx(expected, rel=1e-10, abs=0)
    stat = WStatCountsStatistic(n_on, n_off, alpha)
    ref_counts = 1e-12 * 0.9 * 1e10
    assert maps["norm_ul"].data[centre] * ref_counts == pytest.approx(stat.compute_upper_limit(2), rel=1e-8, abs=0)


def test_onoff_without_correlating_off():
    dataset = _onoff()
    maps = ExcessMapEstimator("0.05 deg", correlate_off=False).run(dataset)
    # n_off per pixel (2 bins x 8), alpha = summed ON acceptance (21 pixels x 2 bins) / OFF acceptance (2 x 4)
    n_on, n_off, alpha = N_DISK * 6.0, 16.0, N_DISK * 2 / 8.0
    stat = WStatCountsStatistic(n_on, n_off, alpha)
    assert maps["sqrt_ts"].data[0, 15, 20] == pytest.approx(stat.sqrt_ts, rel=1e-10, abs=0)


def test_options_are_checked():
    with pytest.raises(ValueError, match="correlation_radius"):
        ExcessMapEstimator("0 deg")
    with pytest.raises(ValueError, match="selection_optional"):
        ExcessMapEstimator(selection_optional=["scan"])
