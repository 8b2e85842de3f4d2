"""MapDataset on the real files: old file layouts, seeds 000 and 001, round trip.

Expected numbers are the issue-3 figures (reference implementation on the
same files): values within 0.5 %, errors within 5 %, statistics within 0.05
(seed 001 total within 0.1).
"""
import os
from pathlib import Path

import numpy as np
import pytest

from gammalike.datasets import Datasets
from gammalike.datasets.map import MapDataset
from gammalike.modeling import Fit
from gammalike.modeling.models import (
    FoVBackgroundModel,
    LogParabolaSpectralModel,
    Models,
    PointSpatialModel,
    SkyModel,
    create_crab_spectral_model,
)

pytestmark = pytest.mark.requires_data

OLD_FILES = ["crab-3datasets/Fermi-LAT.fits", "fermi-3fhl-crab/Fermi-LAT-3FHL_data_Fermi-LAT.fits"]


@pytest.mark.parametrize("filename", OLD_FILES)
def test_read_old_files(data_path, filename):
    dataset = MapDataset.read(data_path / filename, name="Fermi-LAT")
    assert dataset.name == "Fermi-LAT"
    assert dataset.counts.geom.data_shape == (5, 40, 50)
    assert dataset.counts.data.sum() == 3004  # COUNTS HDU total
    assert dataset.exposure.unit == "cm2 s"
    assert dataset.mask_safe.data.dtype == bool and dataset.mask_safe.data.sum() == 5 * 1656
    assert dataset.mask_fit is None  # no MASK_FIT HDU in these files
    # the PSF radius axis is "theta" in the older file
    assert dataset.psf.psf_map.geom.axes.names == ["rad", "energy_true"]
    assert dataset.edisp.edisp_map.geom.axes.names == ["energy", "energy_true"]


def _seed000(data_path):
    datasets = Datasets.read(data_path / "crab-3datasets/crab_10GeV_100TeV_datasets.yaml")
    crab = SkyModel(
        spatial_model=PointSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", frame="galactic"),
        spectral_model=create_crab_spectral_model("magic_lp"),
        name="Crab",
    )
    crab.spatial_model.parameters.freeze_all()
    models = Models.read(data_path / "crab-3datasets/Fermi-LAT-3FHL_models.yaml")
    models.append(crab)
    datasets.models = models
    return datasets, crab


def test_seed000_fermi_statistic_at_reference_parameters(data_path):
    # the Fermi-LAT term at the reference best fit isolates the 3D evaluation from the other datasets
    datasets, crab = _seed000(data_path)
    assert isinstance(datasets["Fermi-LAT"], MapDataset)
    spectral = crab.spectral_model
    spectral.amplitude.value, spectral.alpha.value, spectral.beta.value = 3.8435e-11, 2.5018, 0.071127
    datasets["Fermi-LAT"].background_model.spectral_model.norm.value = 1.3088
    assert datasets["Fermi-LAT"].stat_sum() == pytest.approx(-12718.567, abs=0.05)


def test_seed000_joint_fit(data_path):
    datasets, crab = _seed000(data_path)
    result = Fit().run(datasets=datasets)
    assert result.success
    assert datasets.stat_sum() == pytest.approx(-12644.42, abs=0.05)
    expected = {"Fermi-LAT": -12718.567, "HESS": 33.85, "HAWC": 18.85, "LHAASO": 21.442}
    for name, value in expected.items():
        assert datasets[name].stat_sum() == pytest.approx(value, abs=0.05), name
    spectral = crab.spectral_model
    assert spectral.amplitude.value == pytest.approx(3.8435e-11, rel=5e-3, abs=0)
    assert spectral.alpha.value == pytest.approx(2.5018, rel=5e-3, abs=0)
    assert spectral.beta.value == pytest.approx(0.071127, rel=5e-3, abs=0)
    norm = datasets["Fermi-LAT"].background_model.spectral_model.norm.value
    assert norm == pytest.approx(1.3088, rel=5e-3, abs=0)


def _seed001(data_path):
    from gammalike.datasets import FluxPointsDataset, SpectrumDatasetOnOff
    from gammalike.estimators import FluxPoints

    datasets = Datasets.read(
        data_path / "fermi-3fhl-crab", filedata="Fermi-LAT-3FHL_datasets.yaml",
        filemodel="Fermi-LAT-3FHL_models.yaml",
    )
    dataset_fermi = datasets[0]
    crab_model = dataset_fermi.models["Crab Nebula"]
    hess = [
        SpectrumDatasetOnOff.read(data_path / f"joint-crab/spectra/hess/pha_obs{obs_id}.fits")
        for obs_id in (23523, 23526)
    ]
    dataset_hess = Datasets(hess).stack_reduce(name="HESS")
    dataset_hess.models = crab_model
    flux_points = FluxPoints.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    dataset_hawc = FluxPointsDataset(crab_model, flux_points, name="HAWC")
    return Datasets([dataset_fermi, dataset_hess, dataset_hawc]), crab_model


@pytest.fixture(scope="module")
def seed001_fit():
    # module scope (one fit for several tests): conftest exports the data folder
    datasets, crab_model = _seed001(Path(os.environ["GAMMALIKE_DATA"]))
    result = Fit().run(datasets=datasets)
    return datasets, crab_model, result


def test_seed001_joint_fit_values(seed001_fit):
    datasets, crab_model, result = seed001_fit
    assert result.success
    assert isinstance(datasets["Fermi-LAT"], MapDataset)
    assert datasets.stat_sum() == pytest.approx(-12697.23, abs=0.1)
    expected = {"Fermi-LAT": -12737.60, "HESS": 34.757, "HAWC": 5.612}
    for name, value in expected.items():
        assert datasets[name].stat_sum() == pytest.approx(value, abs=0.05), name
    spectral = crab_model.spectral_model
    assert spectral.reference.value == pytest.approx(5.0548e-05, rel=1e-4, abs=0)
    assert spectral.amplitude.value == pytest.approx(3.9730e-03, rel=5e-3, abs=0)
    assert spectral.alpha.value == pytest.approx(1.2633, rel=5e-3, abs=0)
    assert spectral.beta.value == pytest.approx(0.061323, rel=5e-3, abs=0)
    bkg = datasets["Fermi-LAT"].background_model.spectral_model.norm
    assert bkg.value == pytest.approx(1.3051, rel=5e-3, abs=0)
    assert bkg.error == pytest.approx(0.076, rel=5e-2, abs=0)


# The errors for amplitude / alpha / beta (3.12e-4, 0.0171, 0.00094)
# are half those of the likelihood; they are an artefact of HESSE, not a
# property of the data:
# - the parameters are 0.96-0.99 correlated (reference energy 50 MeV, data
#   from 10 GeV): the correlation matrix has condition number ~8e3, so
#   relative errors of 1e-4 in the Hessian elements move the errors by tens of %;
# - Minuit's HESSE takes per-axis steps that grow with |stat| (12697 here) and
#   forward differences for the mixed derivatives.  A fresh HESSE at strategy
#   0 or 1 at our best fit (or at the reference's printed point) gives
#   3.14e-4, 0.0171, 0.00094, 0.0764: all four reference numbers within 0.6 %
#   (test_seed001_reference_errors_are_hesse_artefacts).  Emulating it (forward
#   mixed differences at Minuit's steps) gives the same; central differences
#   at the same steps give 2x larger errors.  (The seed printout's older
#   release, 2.86e-4, 0.0151, 0.00086, is the same kind of number);
# - the statistic is smooth (float64 round-off, 2e-12, along lines through
#   the minimum at 1e-6 to 1e-2 sigma; no kinks).  The Hessian by central
#   differences along the axes with 1e-3 sigma steps, its Richardson limit
#   from 0.025 / 0.0125 sigma, central differences in decorrelated
#   coordinates, MINOS and the profile all give 6.3e-4, 0.0368, 0.00203
#   (the reference errors raise the profiled statistic by 0.21-0.26, not 1);
#   the (uncorrelated) background norm error 0.0764 agrees everywhere.
# Fit now checks HESSE in decorrelated coordinates (refine_covariance), so our
# errors are the likelihood's whatever the MIGRAD strategy.  Strict xfail:
# the reference numbers are not reproducible from a correct Hessian.
@pytest.mark.xfail(strict=True, reason=(
    "reference amplitude / alpha / beta errors are Minuit forward-difference HESSE "
    "artefacts, half of the likelihood's (see the comment and the tests below)"
))
def test_seed001_joint_fit_errors(seed001_fit):
    _, crab_model, _ = seed001_fit
    spectral = crab_model.spectral_model
    assert spectral.amplitude.error == pytest.approx(3.12e-04, rel=5e-2, abs=0)
    assert spectral.alpha.error == pytest.approx(0.0171, rel=5e-2, abs=0)
    assert spectral.beta.error == pytest.approx(0.00094, rel=5e-2, abs=0)


def _seed001_free(datasets, crab_model):
    spectral = crab_model.spectral_model
    bkg = datasets["Fermi-LAT"].background_model.spectral_model
    return [spectral.amplitude, spectral.alpha, spectral.beta, bkg.norm]


def test_seed001_errors_match_finite_difference_hessian(seed001_fit):
    # Central differences with steps of 1e-3 of each error: converged (their
    # Richardson limit from larger steps agrees to 0.1 %; along these strongly
    # correlated axes steps of 0.0125 sigma are already 5 % off).
    datasets, crab_model, _ = seed001_fit
    pars = _seed001_free(datasets, crab_model)
    best = np.array([p.value for p in pars])
    errors = np.array([p.error for p in pars])
    step = 1e-3 * errors
    eye = np.eye(len(pars))

    def stat(u):
        for par, value in zip(pars, best + u * step):
            par.value = value
        return datasets.stat_sum()

    try:
        f0 = stat(0 * eye[0])
        hess = np.empty((4, 4))
        for i in range(4):
            hess[i, i] = stat(eye[i]) + stat(-eye[i]) - 2 * f0
            for j in range(i + 1, 4):
                hess[i, j] = hess[j, i] = (stat(eye[i] + eye[j]) - stat(eye[i] - eye[j])
                                           - stat(eye[j] - eye[i]) + stat(-eye[i] - eye[j])) / 4
    finally:
        stat(0 * eye[0])
    covariance = 2 * np.linalg.inv(hess) * np.outer(step, step)
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), errors, rtol=2e-2)
    # ... and about twice the reference HESSE errors
    reference = [3.12e-4, 0.0171, 0.00094, 0.076]
    np.testing.assert_allclose(errors / reference, [2.02, 2.15, 2.16, 1.005], rtol=5e-2)


def test_seed001_reference_errors_are_hesse_artefacts(seed001_fit):
    # The reference numbers come back from a fresh Minuit HESSE (strategy 1,
    # forward differences for the mixed derivatives) on our statistic at our
    # best fit.  Depends on Minuit's HESSE step rule (iminuit 2.x): if this
    # fails after an iminuit upgrade, the explanation above needs re-checking.
    from iminuit import Minuit

    datasets, crab_model, _ = seed001_fit
    pars = _seed001_free(datasets, crab_model)
    best = np.array([p.value for p in pars])
    scales = 10.0 ** np.floor(np.log10(np.abs(best)))

    def stat(factors):
        for par, value in zip(pars, factors * scales):
            par.value = value
        return datasets.stat_sum()

    minuit = Minuit(stat, best / scales, name=["amplitude", "alpha", "beta", "norm"])
    minuit.errordef = 1
    minuit.errors = 0.1 * np.array([p.error for p in pars]) / scales
    minuit.limits = [(None, None)] * 3 + [(0, None)]
    minuit.strategy = 1
    try:
        minuit.hesse()
    finally:
        stat(best / scales)
    errors = np.array(minuit.errors) * scales
    np.testing.assert_allclose(errors, [3.12e-4, 0.0171, 0.00094, 0.076], rtol=3e-2)


@pytest.mark.slow
def test_seed001_beta_error_matches_profile(seed001_fit):
    # Profile likelihood: stat(beta_best +- error, others re-optimised) - stat_min ~ 1.
    datasets, crab_model, result = seed001_fit
    beta = crab_model.spectral_model.beta
    best, error = beta.value, beta.error
    for sign in (-1, 1):
        with datasets.models.parameters.restore_status():
            beta.value = best + sign * error
            beta.frozen = True
            delta = Fit().optimize(datasets).total_stat - result.total_stat
        assert 0.8 < delta < 1.2, (sign, delta)


def _roundtrip(datasets, tmp_path):
    filename = tmp_path / "crab_10GeV_100TeV_datasets.yaml"
    filename_models = tmp_path / "crab_10GeV_100TeV_models.yaml"
    datasets.write(filename, filename_models=filename_models, overwrite=True)
    return Datasets.read(tmp_path, filedata=filename.name, filemodel=filename_models.name)


def test_seed001_datasets_roundtrip(seed001_fit, tmp_path):
    datasets, _, _ = seed001_fit
    new = _roundtrip(datasets, tmp_path)
    assert [type(d).__name__ for d in new] == ["MapDataset", "SpectrumDatasetOnOff", "FluxPointsDataset"]
    assert new.stat_sum() == pytest.approx(datasets.stat_sum(), rel=1e-10, abs=0)
    old, fermi = datasets["Fermi-LAT"], new["Fermi-LAT"]
    assert fermi.stat_sum() == datasets["Fermi-LAT"].stat_sum()
    for key in ("counts", "exposure", "background", "mask_safe"):
        assert np.array_equal(getattr(old, key).data, getattr(fermi, key).data), key
        assert getattr(old, key).geom == getattr(fermi, key).geom, key
    assert np.array_equal(old.psf.psf_map.data, fermi.psf.psf_map.data)
    assert np.array_equal(old.psf.exposure_map.data, fermi.psf.exposure_map.data)
    assert np.array_equal(old.edisp.edisp_map.data, fermi.edisp.edisp_map.data)


def test_seed001_roundtrip_1d_datasets_identical(seed001_fit, tmp_path):
    datasets, _, _ = seed001_fit
    new = _roundtrip(datasets, tmp_path)
    for name in ("HESS", "HAWC"):
        assert new[name].stat_sum() == datasets[name].stat_sum(), name
    for key in ("counts", "counts_off", "exposure", "acceptance", "acceptance_off", "mask_safe"):
        assert np.array_equal(getattr(new["HESS"], key).data, getattr(datasets["HESS"], key).data), key
    assert np.array_equal(new["HESS"].edisp.pdf_matrix, datasets["HESS"].edisp.pdf_matrix)


def test_fermi_model_yaml_background_attached(data_path):
    # datasets_names of the FoVBackgroundModel name the dataset of the datasets YAML
    datasets = Datasets.read(
        data_path / "fermi-3fhl-crab", filedata="Fermi-LAT-3FHL_datasets.yaml",
        filemodel="Fermi-LAT-3FHL_models.yaml",
    )
    dataset = datasets["Fermi-LAT"]
    assert isinstance(dataset.background_model, FoVBackgroundModel)
    assert isinstance(dataset.models["Crab Nebula"].spectral_model, LogParabolaSpectralModel)
