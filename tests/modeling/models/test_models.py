"""Tests of the Models / DatasetModels containers and their YAML + covariance files."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.modeling.models import (
    DatasetModels,
    ExpCutoffPowerLawSpectralModel,
    FoVBackgroundModel,
    LogParabolaSpectralModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)


def _models():
    crab = SkyModel(spectral_model=LogParabolaSpectralModel(),
                    spatial_model=PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"), name="crab")
    other = SkyModel(spectral_model=PowerLawSpectralModel(), name="other", datasets_names=["hess"])
    bkg = FoVBackgroundModel(dataset_name="fermi")
    return Models([crab, other, bkg])


def test_list_protocol_and_indexing():
    models = _models()
    assert len(models) == 3
    assert models.names == ["crab", "other", "fermi-bkg"]
    assert models["crab"] is models[0]
    assert models[["crab", "fermi-bkg"]].names == ["crab", "fermi-bkg"]
    assert models[1:].names == ["other", "fermi-bkg"]
    assert "other" in models
    with pytest.raises(KeyError, match="nope"):
        models["nope"]
    with pytest.raises(ValueError, match="crab"):
        models.append(SkyModel(spectral_model=PowerLawSpectralModel(), name="crab"))
    models.remove("other")
    assert models.names == ["crab", "fermi-bkg"]
    models.insert(0, SkyModel(spectral_model=PowerLawSpectralModel(), name="first"))
    assert models.names[0] == "first"
    combined = models + Models([SkyModel(spectral_model=PowerLawSpectralModel(), name="last")])
    assert combined.names[-1] == "last" and len(models) == 3
    assert isinstance(Models(SkyModel(spectral_model=PowerLawSpectralModel(), name="x")), Models)


def test_parameters_shared_and_unique():
    models = _models()
    shared = models["crab"].spectral_model.alpha
    models["other"].spectral_model.index = shared
    params = models.parameters
    assert len(params) == 4 + 2 + 3 + 3
    assert len(params.unique_parameters) == len(params) - 1
    assert models.parameters_unique_names[:2] == ["crab.spectral.amplitude", "crab.spectral.reference"]
    table = models.to_parameters_table()
    assert table.colnames == ["model", "type", "name", "value", "unit", "error", "min", "max",
                              "frozen", "is_norm", "link"]
    links = table["link"][table["link"] != ""]
    assert len(links) == 2 and links[0] == links[1]


def test_select():
    models = _models()
    assert models.select(datasets_names="hess").names == ["crab", "other"]
    assert models.select(datasets_names=["fermi"]).names == ["crab", "fermi-bkg"]
    assert models.select(tag="FoVBackgroundModel").names == ["fermi-bkg"]
    assert models.select(tag="PointSpatialModel").names == ["crab"]
    assert models.select(model_type="spatial").names == ["crab"]
    models["other"].freeze()
    assert models.select(frozen=True).names == ["other"]
    assert np.array_equal(models.select_mask(name_substring="bkg"), [False, False, True])


def test_freeze_unfreeze_models():
    models = _models()
    models.freeze("spatial")
    assert models["crab"].spatial_model.frozen
    models.freeze()
    assert all(p.frozen for p in models.parameters)
    models.unfreeze()
    assert not models["crab"].spectral_model.alpha.frozen


def test_covariance_setter_distributes():
    models = _models()
    n = len(models.parameters)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    data = a @ a.T
    models.covariance = data
    assert np.allclose(models.covariance.data, data, atol=0)
    # sub-blocks reach each model and its components
    assert np.allclose(models["other"].covariance.data, data[6:9, 6:9], atol=0)
    assert np.allclose(models["crab"].spectral_model.covariance.data, data[:4, :4], atol=0)
    assert models["crab"].spectral_model.amplitude.error == pytest.approx(np.sqrt(data[0, 0]))


def test_write_read_round_trip(tmp_path):
    models = _models()
    models["other"].spectral_model.index = models["crab"].spectral_model.alpha  # a link
    models["crab"].spectral_model.amplitude.error = 1e-13
    n = len(models.parameters)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(n, n)) * 1e-3
    data = a @ a.T
    # shared parameter: its two rows / columns are identical
    j, k = 2 + 0, 6  # crab alpha (index 2), other index (index 6)
    data[k, :] = data[j, :]
    data[:, k] = data[:, j]
    data[k, k] = data[j, j]
    models.covariance = data
    path = tmp_path / "models.yaml"
    models.write(path)
    cov_file = tmp_path / "models_covariance.dat"
    assert cov_file.exists()
    text = cov_file.read_text()
    assert text.splitlines()[0].split("|")[1].strip() == "Parameters"
    assert "crab.spectral.amplitude" in text
    assert "covariance: models_covariance.dat" in path.read_text()
    new = Models.read(path)
    assert new.names == models.names
    for p_new, p_old in zip(new.parameters, models.parameters):
        assert p_new.name == p_old.name
        assert p_new.value == p_old.value
        assert p_new.unit == p_old.unit
        assert p_new.frozen == p_old.frozen
        assert p_new.error == pytest.approx(p_old.error, rel=1e-14, abs=0)
    assert np.allclose(new.covariance.data, models.covariance.data, rtol=1e-14, atol=0)
    # the link is restored: one parameter object
    assert new["other"].spectral_model.index is new["crab"].spectral_model.alpha
    # overwrite protection
    with pytest.raises(FileExistsError):
        models.write(path)
    models.write(path, overwrite=True)


def test_read_covariance_in_other_order(tmp_path):
    # gammapy 2.0 files list PowerLawNorm's tilt before norm: rows are matched by label
    models = Models([FoVBackgroundModel(dataset_name="d")])
    cov = tmp_path / "cov.dat"
    cov.write_text(
        "|      Parameters |   0 |   1 |   2 |\n"
        "| d-bkg.spectral.tilt | 0.04 | 0.0 | 0.0 |\n"
        "| d-bkg.spectral.norm | 0.0 | 0.01 | 0.0 |\n"
        "| d-bkg.spectral.reference | 0.0 | 0.0 | 0.0 |\n"
    )
    models.read_covariance(cov)
    assert models["d-bkg"].spectral_model.norm.error == pytest.approx(0.1)
    assert models["d-bkg"].spectral_model.tilt.error == pytest.approx(0.2)


def test_yaml_string_round_trip():
    models = _models()
    new = Models.from_yaml(models.to_yaml())
    assert new.names == models.names
    assert np.array_equal(new.parameters.values, models.parameters.values)
    assert new["other"].datasets_names == ["hess"]


def test_unknown_type_and_bad_unit():
    yaml_str = """
components:
- name: src
  type: SkyModel
  spectral:
    type: PowerLawSpectralModel
    parameters:
    - name: amplitude
      value: 1.0e-12
      unit: {unit}
"""
    with pytest.raises(u.UnitConversionError, match="amplitude"):
        Models.from_yaml(yaml_str.format(unit="deg"))
    with pytest.raises(KeyError, match="PowerLawXSpectralModel.*PowerLawSpectralModel"):
        Models.from_yaml(yaml_str.format(unit="cm-2 s-1 TeV-1").replace("PowerLawSp", "PowerLawXSp"))
    with pytest.raises(KeyError, match="Galaxy"):
        Models.from_yaml(yaml_str.format(unit="cm-2 s-1 TeV-1").replace("SkyModel", "Galaxy"))


def test_str_seed_layout():
    text = str(_models())
    assert text.startswith("Models\n\nComponent 0: SkyModel\n\n  Name                      : crab")
    assert "Component 2: FoVBackgroundModel" in text


def test_dataset_models_view():
    models = DatasetModels(_models())
    assert not hasattr(models, "append")
    assert models.select(datasets_names="fermi").names == ["crab", "fermi-bkg"]
    assert isinstance(models.copy(), DatasetModels)
    copied = models.copy()
    assert copied["crab"] is not models["crab"] and copied.names == models.names


MODEL_FILES = [
    "fermi-3fhl-crab/Fermi-LAT-3FHL_models.yaml",
    "crab-3datasets/Fermi-LAT-3FHL_models.yaml",
    "datasets/simulations/simulated_map_dataset_model.yaml",
    "datasets/simulations/simulated_spectrum_dataset_PL_model.yaml",
    "datasets/simulations/simulated_spectrum_dataset_ECPL_model.yaml",
    "tests/models/gc_example_models.yaml",
    "estimators/crab_hess_fp/models.yaml",
    "estimators/pks2155_hess_lc/models.yaml",
]


@pytest.mark.requires_data
@pytest.mark.parametrize("filename", MODEL_FILES)
def test_read_data_files(data_path, filename, tmp_path):
    models = Models.read(data_path / filename)
    assert len(models) >= 1
    # every YAML parameter value is read in
    assert all(np.isfinite(models.parameters.values))
    # write -> read gives the same parameters
    models.write(tmp_path / "out.yaml")
    again = Models.read(tmp_path / "out.yaml")
    assert again.names == models.names
    assert np.array_equal(again.parameters.values, models.parameters.values)


@pytest.mark.requires_data
def test_read_data_file_details(data_path):
    models = Models.read(data_path / "fermi-3fhl-crab/Fermi-LAT-3FHL_models.yaml")
    assert models.names == ["Crab Nebula", "Fermi-LAT-bkg"]
    crab = models["Crab Nebula"]
    assert isinstance(crab.spectral_model, LogParabolaSpectralModel)
    assert crab.spectral_model.amplitude.value == pytest.approx(0.018182745349064267)
    assert crab.spectral_model.amplitude.error == pytest.approx(0.003026327991562108)
    assert crab.spatial_model.frame == "icrs"
    # the simulated map dataset's covariance file is read and matched by label
    sim = Models.read(data_path / "datasets/simulations/simulated_map_dataset_model.yaml")
    assert sim.covariance.data.shape == (11, 11)
    assert sim["source"].spatial_model.sigma.value == 0.4
    # gc example: the two ECPL references share one parameter through "link"
    gc = Models.read(data_path / "tests/models/gc_example_models.yaml")
    assert gc["gc"].spectral_model.reference is gc["g09"].spectral_model.reference
    assert gc["gll_iem_v06_cutout"].spatial_model.filename.endswith("gll_iem_v06_gc.fits.gz")
    assert gc["gc-bkg"].datasets_names == ["gc"]
    ecpl = Models.read(data_path / "datasets/simulations/simulated_spectrum_dataset_ECPL_model.yaml")
    assert isinstance(ecpl[0].spectral_model, ExpCutoffPowerLawSpectralModel)


SEED_004_YAML = """
components:
- name: GC-1
  type: SkyModel
  spatial:
    type: PointSpatialModel
    frame: galactic
    parameters:
    - name: lon_0
      value: 0.02
      unit: deg
    - name: lat_0
      value: 0.01
      unit: deg
  spectral:
    type: PowerLaw2SpectralModel
    parameters:
    - name: amplitude
      value: 1.0e-12
      unit: cm-2 s-1
    - name: index
      value: 2.0
      unit: ''
      frozen: true
    - name: emin
      value: 0.1
      unit: TeV
      frozen: true
    - name: emax
      value: 10.0
      unit: TeV
      frozen: true
"""

SEED_001_YAML = """
components:
- name: Crab Nebula
  type: SkyModel
  spatial:
    type: PointSpatialModel
    frame: icrs
    parameters:
    - {name: lon_0, value: 83.63310241699219, unit: deg, min: .nan, max: .nan, frozen: true}
    - {name: lat_0, value: 22.019899368286133, unit: deg, min: -90.0, max: 90.0, frozen: true}
  spectral:
    type: LogParabolaSpectralModel
    parameters:
    - {name: amplitude, value: 0.3415498620816483, unit: cm-2 s-1 TeV-1, min: .nan, max: .nan, frozen: false}
    - {name: reference, value: 5.054833602905273e-05, unit: TeV, min: .nan, max: .nan, frozen: true}
    - {name: alpha, value: 2.510798031388936, unit: '', min: .nan, max: .nan, frozen: false}
    - {name: beta, value: -0.022476498188855533, unit: '', min: .nan, max: .nan, frozen: false}
- name: background
  type: BackgroundModel
  parameters:
  - {name: norm, value: 0.9544383244743555, unit: '', min: 0.0, max: .nan, frozen: false}
  - {name: tilt, value: 0.0, unit: '', min: .nan, max: .nan, frozen: true}
  - {name: reference, value: 1.0, unit: TeV, min: .nan, max: .nan, frozen: true}
"""


def test_seed_004_yaml_and_print():
    models = Models.from_yaml(SEED_004_YAML)
    models.append(FoVBackgroundModel(dataset_name="stacked"))
    model = models["GC-1"]
    assert model.spatial_model.frame == "galactic"
    assert model.spectral_model.amplitude.unit == u.Unit("cm-2 s-1")
    assert [p.frozen for p in model.spectral_model.parameters] == [False, True, True, True]
    text = str(models)
    assert "Component 1: FoVBackgroundModel" in text
    assert "    emin                  (frozen):      0.100       TeV" in text
    table = models.to_parameters_table()
    assert list(table["model"]) == ["GC-1"] * 6 + ["stacked-bkg"] * 3
    assert list(table["type"][:6]) == ["spectral"] * 4 + ["spatial"] * 2


def test_seed_001_yaml_old_background():
    models = Models.from_yaml(SEED_001_YAML)
    assert models.names == ["Crab Nebula", "background"]
    bkg = models["background"]
    assert isinstance(bkg, FoVBackgroundModel)
    assert bkg.spectral_model.norm.value == pytest.approx(0.9544383244743555)
    assert models["Crab Nebula"].spectral_model.beta.value == pytest.approx(-0.022476498188855533)
    # written back in the current layout, keeping the name
    again = Models.from_yaml(models.to_yaml())
    assert again.names == models.names
