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
    assert spectral.amplitude.value == pytest.approx(3.8435e-11, rel=5e-3)
    assert spectral.alpha.value == pytest.approx(2.5018, rel=5e-3)
    assert spectral.beta.value == pytest.approx(0.071127, rel=5e-3)
    norm = datasets["Fermi-LAT"].background_model.spectral_model.norm.value
    assert norm == pytest.approx(1.3088, rel=5e-3)


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
    assert spectral.reference.value == pytest.approx(5.0548e-05, rel=1e-4)
    assert spectral.amplitude.value == pytest.approx(3.9730e-03, rel=5e-3)
    assert spectral.alpha.value == pytest.approx(1.2633, rel=5e-3)
    assert spectral.beta.value == pytest.approx(0.061323, rel=5e-3)
    bkg = datasets["Fermi-LAT"].background_model.spectral_model.norm
    assert bkg.value == pytest.approx(1.3051, rel=5e-3)
    assert bkg.error == pytest.approx(0.076, rel=5e-2)


# The issue quotes HESSE errors about half of ours for the three spectral
# parameters (their correlations are 0.96-0.99 with the 50 MeV reference
# energy).  Our values and per-dataset statistics agree with the reference to
# < 0.5 % / 0.003, and our errors are those of our likelihood surface: fixing
# beta at best fit +- 1 sigma and re-optimising the rest raises the statistic
# by ~0.9 (test below), while the reference error would raise it by ~0.22.
# Until the cause is known this stays a strict xfail rather than a wider tolerance.
@pytest.mark.xfail(strict=True, reason=(
    "amplitude / alpha / beta errors ~2x the reference HESSE errors; ours match the "
    "profile likelihood (see test_seed001_beta_error_matches_profile)"
))
def test_seed001_joint_fit_errors(seed001_fit):
    _, crab_model, _ = seed001_fit
    spectral = crab_model.spectral_model
    assert spectral.amplitude.error == pytest.approx(3.12e-04, rel=5e-2)
    assert spectral.alpha.error == pytest.approx(0.0171, rel=5e-2)
    assert spectral.beta.error == pytest.approx(0.00094, rel=5e-2)


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
    assert new.stat_sum() == pytest.approx(datasets.stat_sum(), rel=1e-10)
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
