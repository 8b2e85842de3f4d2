"""Issue 4, seed 003 check: 1D ON/OFF reduction of four H.E.S.S. DR1 Crab runs and the fits.

Expected numbers come from the issue (reference implementation on the same
files).  Counts are exact; fitted values within 0.5 %, errors within 5 %.
"""
import os
from pathlib import Path

import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import Angle, SkyCoord
from regions import CircleSkyRegion

from gammalike.data import DataStore
from gammalike.datasets import Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gammalike.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
from gammalike.maps import MapAxis, RegionGeom, WcsGeom
from gammalike.modeling import Fit
from gammalike.modeling.models import ExpCutoffPowerLawSpectralModel, SkyModel

pytestmark = pytest.mark.requires_data

OBS_IDS = [23523, 23526, 23559, 23592]


def reduce_seed003(data_path):
    """The seed's reduction loop (shared/seeds/003_spectral_analysis_1d.txt)."""
    datastore = DataStore.from_dir(data_path / "hess-dl3-dr1")
    observations = datastore.get_observations(OBS_IDS)
    target_position = SkyCoord(ra=83.63, dec=22.01, unit="deg", frame="icrs")
    on_region = CircleSkyRegion(center=target_position, radius=Angle("0.11 deg"))
    exclusion_region = CircleSkyRegion(
        center=SkyCoord(183.604, -8.708, unit="deg", frame="galactic"), radius=0.5 * u.deg
    )
    geom = WcsGeom.create(npix=(150, 150), binsz=0.05, skydir=target_position.galactic, proj="TAN", frame="icrs")
    exclusion_mask = ~geom.region_mask([exclusion_region])
    energy_axis = MapAxis.from_energy_bounds(0.1, 40, nbin=10, per_decade=True, unit="TeV", name="energy")
    energy_axis_true = MapAxis.from_energy_bounds(
        0.05, 100, nbin=20, per_decade=True, unit="TeV", name="energy_true"
    )
    geom = RegionGeom.create(region=on_region, axes=[energy_axis])
    dataset_empty = SpectrumDataset.create(geom=geom, energy_axis_true=energy_axis_true)
    dataset_maker = SpectrumDatasetMaker(containment_correction=True, selection=["counts", "exposure", "edisp"])
    bkg_maker = ReflectedRegionsBackgroundMaker(exclusion_mask=exclusion_mask)
    safe_mask_masker = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10)
    datasets = Datasets()
    for obs_id, observation in zip(OBS_IDS, observations):
        dataset = dataset_maker.run(dataset_empty.copy(name=str(obs_id)), observation)
        dataset_on_off = bkg_maker.run(dataset, observation)
        dataset_on_off = safe_mask_masker.run(dataset_on_off, observation)
        datasets.append(dataset_on_off)
    return datasets, exclusion_mask, on_region


@pytest.fixture(scope="module")
def seed003():
    # tests/conftest.py sets GAMMALIKE_DATA when the data folder is found (else these tests are skipped)
    return reduce_seed003(Path(os.environ["GAMMALIKE_DATA"]))


def test_data_path(data_path):
    assert (data_path / "hess-dl3-dr1" / "obs-index.fits.gz").exists()


@pytest.fixture
def datasets(seed003):
    return seed003[0].copy()


def ecpl_model():
    spectral_model = ExpCutoffPowerLawSpectralModel(
        amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"), index=2, lambda_=0.1 * u.Unit("TeV-1"), reference=1 * u.TeV,
    )
    return SkyModel(spectral_model=spectral_model, name="crab")


def test_info_table_cumulative(datasets):
    table = datasets.info_table(cumulative=True)
    columns = [
        "name", "counts", "background", "excess", "sqrt_ts", "npred", "npred_background", "npred_signal",
        "exposure_min", "exposure_max", "livetime", "ontime", "counts_rate", "background_rate",
        "excess_rate", "n_bins", "n_fit_bins", "stat_type", "stat_sum", "counts_off", "acceptance",
        "acceptance_off", "alpha",
    ]
    assert set(columns) <= set(table.colnames)
    # issue 4: exact counts; 12, 12, 41 and 36 reflected regions
    assert table["counts"].tolist() == [149, 303, 439, 550]
    assert table["counts_off"].tolist() == [117, 267, 594, 869]
    assert np.allclose(table["alpha"], [0.08333, 0.08333, 0.05088, 0.04357], atol=5e-6)
    assert np.allclose(table["livetime"].to("s").value, [1581.7, 3154.4, 4732.5, 6313.8], atol=0.05)
    assert [d.acceptance_off.data.ravel()[0] for d in datasets] == [12, 12, 41, 36]


def test_off_regions_kept(datasets):
    # the OFF regions are stored with the OFF counts (for plot_spectrum_datasets_off_regions)
    from gammalike.visualization.datasets import _off_regions

    assert [len(_off_regions(d)) for d in datasets] == [12, 12, 41, 36]


def test_joint_fit(datasets):
    model = ecpl_model()
    datasets.models = [model]
    result = Fit().run(datasets=datasets)
    assert result.success
    assert result.total_stat == pytest.approx(86.12, abs=0.02)
    pars = model.spectral_model.parameters
    assert pars["index"].value == pytest.approx(2.2727, rel=5e-3, abs=0)
    assert pars["index"].error == pytest.approx(0.157, rel=5e-2, abs=0)
    assert pars["amplitude"].value == pytest.approx(4.7913e-11, rel=5e-3, abs=0)
    assert pars["amplitude"].error == pytest.approx(3.60e-12, rel=5e-2, abs=0)
    assert pars["lambda_"].value == pytest.approx(0.12097, rel=5e-3, abs=0)
    assert pars["lambda_"].error == pytest.approx(0.0538, rel=5e-2, abs=0)


def test_stacked_fit(datasets):
    # The figures stack the datasets as reduced: the energy dispersion of
    # each is weighted by its IRF exposure (aeff x livetime, EDispKernel.exposure).
    stacked = Datasets(datasets).stack_reduce()
    model = ecpl_model()
    stacked.models = model
    result = Fit().run([stacked])
    assert result.total_stat == pytest.approx(8.198, abs=0.05)
    pars = model.spectral_model.parameters
    assert pars["index"].value == pytest.approx(2.2964, rel=5e-3, abs=0)
    assert pars["amplitude"].value == pytest.approx(4.7819e-11, rel=5e-3, abs=0)
    assert pars["lambda_"].value == pytest.approx(0.11393, rel=5e-3, abs=0)


def test_ogip_round_trip(datasets, tmp_path):
    model = ecpl_model()
    datasets.models = [model]
    read = Datasets()
    for dataset in datasets:
        filename = tmp_path / f"obs_{dataset.name}.fits.gz"
        dataset.write(filename=filename, overwrite=True)
        read.append(SpectrumDatasetOnOff.read(filename))
    read.models = [model]
    assert read.names == datasets.names
    for new, old in zip(read, datasets):
        for name in ("counts", "counts_off", "acceptance", "acceptance_off", "mask_safe"):
            assert np.array_equal(getattr(new, name).data, getattr(old, name).data), name
        assert new.livetime == old.livetime
        exposure_old = old.exposure.quantity.to_value("cm2 s")
        assert np.array_equal(new.exposure.quantity.to_value("cm2 s"), exposure_old)
        assert np.array_equal(new.edisp.data, old.edisp.data)
    assert read.stat_sum() == datasets.stat_sum()


def test_stacked_fit_after_ogip_read(datasets, tmp_path):
    # Read back, the kernels have no IRF exposure: they are weighted by the
    # dataset exposure, as in the seed's own printout (total stat 8.16).
    read = Datasets()
    for dataset in datasets:
        dataset.write(filename=tmp_path / f"obs_{dataset.name}.fits.gz", overwrite=True)
        read.append(SpectrumDatasetOnOff.read(tmp_path / f"obs_{dataset.name}.fits.gz"))
    stacked = read.stack_reduce()
    stacked.models = ecpl_model()
    result = Fit().run([stacked])
    assert result.total_stat == pytest.approx(8.16, abs=0.01)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_datasets_maker_stack_is_on_off(seed003, data_path, n_jobs):
    # DatasetsMaker stacking the reflected-regions datasets gives the ON/OFF stack of the seed's
    # loop (stack_reduce): OFF counts kept (550 ON / 869 OFF, issue 4), not silently dropped.
    from gammalike.makers import DatasetsMaker

    datasets, exclusion_mask, on_region = seed003
    expected = datasets.stack_reduce(name="stacked")
    observations = DataStore.from_dir(data_path / "hess-dl3-dr1").get_observations(OBS_IDS)
    reference = datasets[0]
    empty = SpectrumDataset.create(geom=RegionGeom.create(region=on_region, axes=[reference.counts.geom.axes["energy"]]),
                                   energy_axis_true=reference.exposure.geom.axes["energy_true"])
    makers = [SpectrumDatasetMaker(containment_correction=True, selection=["counts", "exposure", "edisp"]),
              ReflectedRegionsBackgroundMaker(exclusion_mask=exclusion_mask),
              SafeMaskMaker(methods=["aeff-max"], aeff_percent=10)]
    stacked = DatasetsMaker(makers, n_jobs=n_jobs).run(empty, observations)[0]
    assert isinstance(stacked, SpectrumDatasetOnOff)
    assert stacked.counts.data.sum() == 550 and stacked.counts_off.data.sum() == 869
    for key in ("counts", "counts_off", "exposure", "acceptance", "acceptance_off"):
        np.testing.assert_allclose(getattr(stacked, key).data, getattr(expected, key).data, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(stacked.mask_safe.data, expected.mask_safe.data)


def test_on_off_into_filled_reference_raises(seed003):
    from gammalike.makers.reduction import _stack_into

    datasets, _, _ = seed003
    on_off = datasets[0]
    filled = SpectrumDataset(counts=on_off.counts.copy(), exposure=on_off.exposure.copy(),
                             mask_safe=on_off.mask_safe.copy(), name="filled")
    with pytest.raises(TypeError, match="ON/OFF dataset '23523' into 'filled'"):
        _stack_into(filled, on_off)
