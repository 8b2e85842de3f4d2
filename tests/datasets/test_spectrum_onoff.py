import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose

from gammalike.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gammalike.modeling.fit import Fit
from gammalike.modeling.models import (
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    PowerLawSpectralModel,
    SkyModel,
)
from gammalike.stats import WStatCountsStatistic, get_wstat_mu_bkg, wstat

HESS_OBS_IDS = [23523, 23526, 23559, 23592]


def pwl_model(name="source", amplitude=1e-12):
    spectral = PowerLawSpectralModel(index=2, amplitude=amplitude * u.Unit("cm-2 s-1 TeV-1"))
    return SkyModel(spectral_model=spectral, name=name)


def test_alpha_background(make_onoff_dataset):
    dataset = make_onoff_dataset(alpha=0.2)
    assert_allclose(dataset.alpha.data, 0.2)
    assert_allclose(dataset.background.data, 0.2 * dataset.counts_off.data)
    with pytest.raises(AttributeError, match="counts_off"):
        dataset.background = dataset.counts


def test_wstat_and_profiled_background(make_onoff_dataset):
    dataset = make_onoff_dataset()
    dataset.models = pwl_model()
    n_on, n_off = dataset.counts.data.ravel(), dataset.counts_off.data.ravel()
    mu_sig = dataset.npred_signal().data.ravel()
    # the statistic and the background are the stats module's wstat and its profile
    assert_allclose(dataset.stat_array(), wstat(n_on, n_off, 0.2, mu_sig))
    assert_allclose(dataset.stat_sum(), wstat(n_on, n_off, 0.2, mu_sig).sum())
    mu_bkg = get_wstat_mu_bkg(n_on, n_off, 0.2, mu_sig)
    assert_allclose(dataset.npred_background().data.ravel(), mu_bkg)
    assert_allclose(dataset.npred().data.ravel(), mu_bkg + mu_sig)
    mask = np.array([0, 1, 1, 1, 0, 1], bool)
    dataset.mask_safe = mask
    assert_allclose(dataset.stat_sum(), wstat(n_on, n_off, 0.2, mu_sig)[mask].sum())


def test_acceptance_arrays(make_onoff_dataset):
    dataset = make_onoff_dataset()
    dataset.acceptance_off = np.array([1, 2, 4, 5, 10, 0.0]).reshape(-1, 1, 1)
    # alpha = acceptance / acceptance_off, 0 where acceptance_off is 0
    assert_allclose(dataset.alpha.data.ravel(), [1, 0.5, 0.25, 0.2, 0.1, 0])


def test_stack_alpha_weighted_by_off_counts(make_onoff_dataset):
    d1 = make_onoff_dataset(name="d1", alpha=0.1, seed=1)
    d2 = make_onoff_dataset(name="d2", alpha=0.5, seed=2)
    d2.counts_off.data[3] = 0
    d1.counts_off.data[3] = 0
    m1 = np.array([1, 1, 1, 1, 1, 0], bool)
    m2 = np.array([0, 1, 1, 1, 1, 1], bool)
    d1.mask_safe, d2.mask_safe = m1, m2
    off1, off2 = d1.counts_off.data.ravel() * m1, d2.counts_off.data.ravel() * m2

    stacked = Datasets([d1, d2]).stack_reduce(name="stacked")
    assert stacked.name == "stacked"
    assert_allclose(stacked.counts.data.ravel(), d1.counts.data.ravel() * m1 + d2.counts.data.ravel() * m2)
    assert_allclose(stacked.counts_off.data.ravel(), off1 + off2)
    assert_allclose(stacked.acceptance.data, 1)
    # alpha = sum(alpha_i n_off_i) / sum(n_off_i), so the background is the sum of backgrounds
    background = 0.1 * off1 + 0.5 * off2
    assert_allclose(stacked.background.data.ravel(), background)
    alpha = stacked.alpha.data.ravel()
    with_off = (off1 + off2) > 0
    assert_allclose(alpha[with_off], background[with_off] / (off1 + off2)[with_off])
    # bins without OFF counts: the weighted alpha of the whole spectrum
    assert_allclose(alpha[3], background.sum() / (off1 + off2).sum())
    # the originals are untouched
    assert_allclose(d1.alpha.data, 0.1)


def test_from_and_to_spectrum_dataset(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1", background=5.0)
    onoff = SpectrumDatasetOnOff.from_spectrum_dataset(dataset, acceptance=1, acceptance_off=10)
    # counts_off = background * acceptance_off / acceptance
    assert_allclose(onoff.counts_off.data, 50)
    assert_allclose(onoff.background.data, 5)
    assert onoff.name == "d1"
    back = onoff.to_spectrum_dataset(name="back")
    assert isinstance(back, SpectrumDataset) and not isinstance(back, SpectrumDatasetOnOff)
    assert_allclose(back.background.data, 5)
    counts_off = dataset.counts.copy()
    onoff = SpectrumDatasetOnOff.from_spectrum_dataset(
        dataset, acceptance=1, acceptance_off=2, counts_off=counts_off, name="new"
    )
    assert onoff.name == "new"
    assert_allclose(onoff.background.data, dataset.counts.data / 2)


def test_info_dict_onoff(make_onoff_dataset):
    dataset = make_onoff_dataset(alpha=0.2)
    mask = np.array([0, 1, 1, 1, 1, 1], bool)
    dataset.mask_safe = mask
    info = dataset.info_dict()
    n_on = dataset.counts.data.ravel()[mask].sum()
    n_off = dataset.counts_off.data.ravel()[mask].sum()
    assert info["counts"] == n_on
    assert info["counts_off"] == n_off
    assert_allclose(info["background"], 0.2 * n_off)
    assert_allclose(info["alpha"], 0.2)
    assert_allclose(info["acceptance_off"], 5)
    assert info["acceptance"] == 1
    assert info["stat_type"] == "wstat"
    # Li & Ma significance of the summed counts
    assert_allclose(info["sqrt_ts"], WStatCountsStatistic(n_on, n_off, 0.2).sqrt_ts)


def test_str_onoff(make_onoff_dataset):
    text = str(make_onoff_dataset(name="obs"))
    assert text.startswith("SpectrumDatasetOnOff")
    for label in ("Total counts_off", "Acceptance", "Acceptance off", "wstat"):
        assert label in text


def test_fit_synthetic_recovers_model(make_onoff_dataset):
    # Asimov data: ON = signal + alpha * OFF exactly, the fit returns the true parameters
    dataset = make_onoff_dataset(alpha=0.2)
    truth = pwl_model(amplitude=2e-10)
    dataset.models = truth
    signal = dataset.npred_signal().data
    dataset.counts_off.data = np.full(dataset.counts_off.data.shape, 100.0)
    dataset.counts.data = signal + 20.0
    model = pwl_model(amplitude=1e-10)
    model.spectral_model.index.value = 2.5
    dataset.models = model
    result = Fit().run(datasets=[dataset])
    assert result.success
    assert_allclose(model.spectral_model.amplitude.value, 2e-10, rtol=5e-3)
    assert_allclose(model.spectral_model.index.value, 2, rtol=5e-3)
    assert_allclose(result.total_stat, 0, atol=1e-3)


# -- validation on the H.E.S.S. Crab spectra (numbers from the issue) -------------------


@pytest.fixture
def hess_datasets(data_path):
    folder = data_path / "joint-crab/spectra/hess"
    return Datasets([SpectrumDatasetOnOff.read(folder / f"pha_obs{obs_id}.fits") for obs_id in HESS_OBS_IDS])


def _errors(model):
    return {p.name: p.error for p in model.spectral_model.parameters}


@pytest.mark.requires_data
def test_hess_safe_counts(hess_datasets):
    # issue: safe-range counts 124, 126, 119, 90; off counts 92, 103, 216, 234
    info = hess_datasets.info_table()
    assert list(info["counts"]) == [124, 126, 119, 90]
    assert list(info["counts_off"]) == [92, 103, 216, 234]
    assert list(info["name"]) == [str(o) for o in HESS_OBS_IDS]


@pytest.mark.requires_data
def test_hess_joint_fit(hess_datasets):
    spectral = ExpCutoffPowerLawSpectralModel(
        amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"), index=2,
        lambda_=0.1 * u.Unit("TeV-1"), reference=1 * u.TeV,
    )
    model = SkyModel(spectral_model=spectral, name="crab")
    hess_datasets.models = [model]
    result = Fit().run(datasets=hess_datasets)
    assert result.success
    # issue: total stat 150.5735 +- 0.01; values within 0.5 %, errors within 5 %
    assert_allclose(result.total_stat, 150.5735, atol=0.01)
    assert_allclose(spectral.index.value, 2.3328, rtol=5e-3)
    assert_allclose(spectral.amplitude.quantity.to_value("cm-2 s-1 TeV-1"), 4.9323e-11, rtol=5e-3)
    assert_allclose(spectral.lambda_.quantity.to_value("TeV-1"), 0.11221, rtol=5e-3)
    errors = _errors(model)
    assert_allclose(errors["index"], 0.179, rtol=0.05)
    assert_allclose(errors["amplitude"], 3.73e-12, rtol=0.05)
    assert_allclose(errors["lambda_"], 0.0552, rtol=0.05)


@pytest.mark.requires_data
def test_hess_stacked_fit(hess_datasets):
    stacked = hess_datasets.stack_reduce()
    info = stacked.info_dict()
    # issue: safe-range counts 459, off counts 645
    assert info["counts"] == 459
    assert info["counts_off"] == 645
    spectral = LogParabolaSpectralModel(
        amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"), alpha=2.5, beta=0.1, reference=1 * u.TeV
    )
    model = SkyModel(spectral_model=spectral, name="crab")
    stacked.models = model
    result = Fit().run(datasets=[stacked])
    assert result.success
    assert_allclose(result.total_stat, 33.3394, atol=0.01)
    assert_allclose(spectral.amplitude.quantity.to_value("cm-2 s-1 TeV-1"), 4.4801e-11, rtol=5e-3)
    assert_allclose(spectral.alpha.value, 2.4045, rtol=5e-3)
    assert_allclose(spectral.beta.value, 0.15917, rtol=5e-3)
    errors = _errors(model)
    assert_allclose(errors["amplitude"], 2.87e-12, rtol=0.05)
    assert_allclose(errors["alpha"], 0.196, rtol=0.05)
    assert_allclose(errors["beta"], 0.107, rtol=0.05)


@pytest.mark.requires_data
def test_pks2155_fit(data_path):
    dataset = SpectrumDatasetOnOff.read(data_path / "PKS2155-steady/pks2155-304_steady.fits.gz")
    # QUALITY is a bool column in this file: True marks bad bins
    assert not dataset.mask_safe.data.ravel()[0]
    spectral = PowerLawSpectralModel(index=3, amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"))
    model = SkyModel(spectral_model=spectral, name="pks2155")
    dataset.models = model
    result = Fit().run(datasets=[dataset])
    assert result.success
    # issue: total stat 6.3325, index 3.4089 +- 0.298, amplitude 3.8482e-12 +- 5.82e-13
    assert_allclose(result.total_stat, 6.3325, atol=0.01)
    assert_allclose(spectral.index.value, 3.4089, rtol=5e-3)
    assert_allclose(spectral.amplitude.quantity.to_value("cm-2 s-1 TeV-1"), 3.8482e-12, rtol=5e-3)
    errors = _errors(model)
    assert_allclose(errors["index"], 0.298, rtol=0.05)
    assert_allclose(errors["amplitude"], 5.82e-13, rtol=0.05)


@pytest.mark.requires_data
def test_hess_info_table_cumulative(hess_datasets):
    table = hess_datasets.info_table(cumulative=True)
    # each row is the stack of the datasets so far
    assert list(table["counts"]) == [124, 250, 369, 459]
    assert list(table["counts_off"]) == [92, 195, 411, 645]
    livetime = table["livetime"].to("h")
    assert np.all(np.diff(livetime.value) > 0)
    assert_allclose(livetime[-1].to_value("s"), sum(d.livetime.to_value("s") for d in hess_datasets))
    assert np.all(np.diff(table["sqrt_ts"]) > 0)


def test_slice_onoff(make_onoff_dataset):
    dataset = make_onoff_dataset(name="d1")
    dataset.models = pwl_model()
    datasets = Datasets([dataset]).slice_by_energy(dataset.energy_axis.edges[2], None)
    sliced = datasets["d1"]
    assert isinstance(sliced, SpectrumDatasetOnOff)
    assert_allclose(sliced.counts_off.data.ravel(), dataset.counts_off.data.ravel()[2:])
    assert_allclose(sliced.alpha.data, 0.2)
    # models carried over; the W statistic of the kept bins is unchanged
    assert_allclose(sliced.stat_sum(), dataset.stat_array()[2:].sum(), rtol=1e-12)


def test_create_onoff():
    from gammalike.maps import MapAxis, RegionGeom

    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "10 TeV", nbin=5)
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    dataset = SpectrumDatasetOnOff.create(geom, name="empty")
    assert dataset.name == "empty"
    assert_allclose(dataset.counts_off.data, 0)
    assert_allclose(dataset.alpha.data, 1)
    assert not dataset.mask_safe.data.any()
