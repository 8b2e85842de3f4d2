import numpy as np
import pytest
import yaml
from astropy import units as u
from numpy.testing import assert_allclose

from gammalike.datasets import DATASET_REGISTRY, Datasets, SpectrumDataset, SpectrumDatasetOnOff
from gammalike.modeling.fit import Fit
from gammalike.modeling.models import Models, PowerLawSpectralModel, SkyModel


def pwl_model(name="source", **kwargs):
    spectral = PowerLawSpectralModel(index=2, amplitude=1e-11 * u.Unit("cm-2 s-1 TeV-1"))
    return SkyModel(spectral_model=spectral, name=name, **kwargs)


@pytest.fixture
def datasets(make_onoff_dataset):
    return Datasets([make_onoff_dataset(name="a", seed=1), make_onoff_dataset(name="b", seed=2)])


def test_container(datasets, make_onoff_dataset):
    assert datasets.names == ["a", "b"]
    assert len(datasets) == 2
    assert datasets["b"] is datasets[1]
    assert datasets[["b", "a"]].names == ["b", "a"]
    assert datasets[:1].names == ["a"]
    assert "a" in datasets
    with pytest.raises(KeyError, match="'c'"):
        datasets["c"]
    with pytest.raises(ValueError, match="unique"):
        datasets.append(make_onoff_dataset(name="a"))
    datasets.append(make_onoff_dataset(name="c"))
    datasets.insert(0, make_onoff_dataset(name="z"))
    assert datasets.names == ["z", "a", "b", "c"]
    datasets.extend([make_onoff_dataset(name="y")])
    assert datasets.names[-1] == "y"
    # a single dataset or another Datasets are accepted too
    assert Datasets(datasets[0]).names == ["z"]
    assert Datasets(datasets).names == datasets.names


def test_models_routing_and_sharing(datasets):
    shared = pwl_model("shared")
    only_b = pwl_model("only_b", datasets_names=["b"])
    datasets.models = Models([shared, only_b])
    assert datasets["a"].models.names == ["shared"]
    assert datasets["b"].models.names == ["shared", "only_b"]
    # the same objects on every dataset: one parameter set in the joint fit
    assert datasets["a"].models["shared"] is datasets["b"].models["shared"]
    assert datasets.models.names == ["shared", "only_b"]
    assert len(datasets.parameters) == len(shared.parameters) + len(only_b.parameters)
    assert_allclose(datasets.stat_sum(), datasets["a"].stat_sum() + datasets["b"].stat_sum())


def test_fit_without_models_raises(datasets):
    with pytest.raises(ValueError, match="models"):
        Fit().run(datasets=datasets)


def test_joint_fit_shares_parameters(datasets):
    model = pwl_model()
    datasets.models = [model]
    result = Fit().run(datasets=datasets)
    assert result.success
    # the fitted parameters are those of the one model object on both datasets
    assert datasets["a"].models[0].spectral_model.index.value == model.spectral_model.index.value
    assert_allclose(result.total_stat, datasets.stat_sum(), rtol=1e-9)


def test_stack_reduce(datasets):
    a, b = datasets
    stacked = datasets.stack_reduce(name="stacked")
    assert stacked.name == "stacked"
    assert isinstance(stacked, SpectrumDatasetOnOff)
    assert_allclose(stacked.counts.data, a.counts.data + b.counts.data)
    assert_allclose(stacked.counts_off.data, a.counts_off.data + b.counts_off.data)
    # inputs unchanged
    assert datasets.names == ["a", "b"]
    with pytest.raises(ValueError, match="same type"):
        Datasets([a, a.to_spectrum_dataset(name="c")]).stack_reduce()


def test_info_table(datasets):
    table = datasets.info_table()
    assert list(table["name"]) == ["a", "b"]
    assert table["livetime"].unit == u.s
    cumulative = datasets.info_table(cumulative=True)
    assert_allclose(cumulative["counts"][1], table["counts"].sum())
    assert_allclose(cumulative["livetime"].to("s")[1].value, 2000)
    assert list(cumulative.colnames[:4]) == ["name", "counts", "excess", "sqrt_ts"]
    for key in ("counts_off", "acceptance", "acceptance_off", "alpha", "n_fit_bins", "stat_sum"):
        assert key in cumulative.colnames


def test_str(datasets):
    datasets.models = [pwl_model("crab")]
    text = str(datasets)
    assert text.startswith("Datasets\n--------\n\nDataset 0: \n\n  Type       : SpectrumDatasetOnOff\n  Name       : a\n")
    assert "Models     : ['crab']" in text
    assert "Dataset 1: " in text


def test_copy_keeps_models_shared(datasets):
    datasets.models = [pwl_model()]
    copy = datasets.copy()
    assert copy[0].models[0] is copy[1].models[0]
    assert copy[0].models[0] is not datasets[0].models[0]
    assert_allclose(copy.stat_sum(), datasets.stat_sum())


def test_registry():
    assert DATASET_REGISTRY.get_cls("SpectrumDatasetOnOff") is SpectrumDatasetOnOff
    assert DATASET_REGISTRY.get_cls("SpectrumDataset") is SpectrumDataset
    with pytest.raises(ValueError, match="Unknown dataset type 'Nope'"):
        DATASET_REGISTRY.get_cls("Nope")


def test_write_read_yaml(datasets, tmp_path):
    model = pwl_model("crab")
    datasets.models = [model]
    datasets[0].mask_safe = np.array([0, 1, 1, 1, 1, 0], bool)
    filename = tmp_path / "my_datasets.yaml"
    filename_models = tmp_path / "my_models.yaml"
    datasets.write(filename, filename_models=filename_models)
    data = yaml.safe_load(filename.read_text())
    assert data["datasets"] == [
        {"name": "a", "type": "SpectrumDatasetOnOff", "filename": "pha_obsa.fits"},
        {"name": "b", "type": "SpectrumDatasetOnOff", "filename": "pha_obsb.fits"},
    ]
    read = Datasets.read(filename, filename_models=filename_models)
    assert read.names == ["a", "b"]
    assert read.models.names == ["crab"]
    assert read[0].models[0] is read[1].models[0]
    assert_allclose(read.stat_sum(), datasets.stat_sum(), rtol=1e-9)
    for d1, d2 in zip(datasets, read):
        assert_allclose(d1.counts.data, d2.counts.data)
        assert_allclose(d1.counts_off.data, d2.counts_off.data)
        assert np.array_equal(d1.mask_safe.data, d2.mask_safe.data)
        assert_allclose(d1.stat_array(), d2.stat_array(), rtol=1e-6)
    # old API: a folder and two file names
    old = Datasets.read(tmp_path, filedata="my_datasets.yaml", filemodel="my_models.yaml")
    assert_allclose(old.stat_sum(), datasets.stat_sum(), rtol=1e-9)


def test_write_yaml_refuses_overwrite(datasets, tmp_path):
    filename = tmp_path / "datasets.yaml"
    datasets.write(filename)
    before = filename.read_text()
    with pytest.raises(FileExistsError):
        datasets.write(filename)
    assert filename.read_text() == before
    datasets.write(filename, overwrite=True)


def test_read_yaml_unknown_type(tmp_path):
    filename = tmp_path / "datasets.yaml"
    filename.write_text("datasets:\n- name: x\n  type: FancyDataset\n  filename: x.fits\n")
    with pytest.raises(ValueError, match="FancyDataset"):
        Datasets.read(filename)
    with pytest.raises(FileNotFoundError):
        Datasets.read(tmp_path / "nothere.yaml")


@pytest.mark.requires_data
def test_read_gammapy_data_variable(tmp_path, data_path):
    # dataset file names may use $GAMMAPY_DATA
    filename = tmp_path / "datasets.yaml"
    filename.write_text(
        "datasets:\n"
        "- name: HESS\n  type: SpectrumDatasetOnOff\n"
        "  filename: $GAMMAPY_DATA/crab-3datasets/pha_obsHESS.fits\n"
    )
    datasets = Datasets.read(filename)
    assert datasets.names == ["HESS"]
    assert datasets[0].info_dict()["counts"] > 0


@pytest.mark.requires_data
def test_read_crab_3datasets_yaml(data_path):
    # written by an older gammapy: the MapDataset entry needs MapDataset, which is not there yet
    filename = data_path / "crab-3datasets/crab_10GeV_100TeV_datasets.yaml"
    try:
        datasets = Datasets.read(filename)
    except ValueError as exc:
        assert "MapDataset" in str(exc)
    else:
        assert datasets.names == ["Fermi-LAT", "HESS", "HAWC", "LHAASO"]


def test_write_read_yaml_spectrum_dataset(make_spectrum_dataset, tmp_path):
    datasets = Datasets([make_spectrum_dataset(name="s1"), make_spectrum_dataset(name="s2", seed=3)])
    datasets.models = [pwl_model()]
    filename = tmp_path / "datasets.yaml"
    datasets.write(filename, filename_models=tmp_path / "models.yaml")
    read = Datasets.read(filename, filename_models=tmp_path / "models.yaml")
    assert [type(d) for d in read] == [SpectrumDataset, SpectrumDataset]
    assert (tmp_path / "s1.fits").exists()
    assert_allclose(read.stat_sum(), datasets.stat_sum(), rtol=1e-9)


def test_write_old_api(datasets, tmp_path):
    # seed 001: datasets.write(path=path, prefix="crab_10GeV_100TeV", overwrite=True)
    datasets.models = [pwl_model()]
    datasets.write(path=tmp_path, prefix="crab", overwrite=True)
    assert (tmp_path / "crab_datasets.yaml").exists()
    assert (tmp_path / "crab_models.yaml").exists()
    read = Datasets.read(tmp_path, filedata="crab_datasets.yaml", filemodel="crab_models.yaml")
    assert_allclose(read.stat_sum(), datasets.stat_sum(), rtol=1e-9)


@pytest.mark.requires_data
def test_yaml_round_trip_hess(data_path, tmp_path):
    folder = data_path / "joint-crab/spectra/hess"
    datasets = Datasets([SpectrumDatasetOnOff.read(folder / f"pha_obs{o}.fits") for o in (23523, 23526)])
    datasets.models = [pwl_model("crab")]
    datasets.write(tmp_path / "datasets.yaml", filename_models=tmp_path / "models.yaml")
    read = Datasets.read(tmp_path / "datasets.yaml", filename_models=tmp_path / "models.yaml")
    assert read.names == ["23523", "23526"]
    assert_allclose(read.stat_sum(), datasets.stat_sum(), rtol=1e-6)
    for d1, d2 in zip(datasets, read):
        assert_allclose(d1.counts.data, d2.counts.data)
        assert_allclose(d1.counts_off.data, d2.counts_off.data)
        assert_allclose(d1.exposure.data, d2.exposure.data, rtol=1e-12)
        assert_allclose(d1.edisp.pdf_matrix, d2.edisp.pdf_matrix, atol=1e-7)
        assert np.array_equal(d1.mask_safe.data, d2.mask_safe.data)
