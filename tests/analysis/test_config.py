"""AnalysisConfig: defaults, the seed-004 printout, YAML round trips and one-line errors.

The expected printout is the one of seed 004 (shared/seeds/004_map_fitting_2d.txt);
the seed's text lost the ``safe_mask:`` and ``correlation_radius`` lines in its
conversion to text, they are restored here.
"""
import logging

import astropy.units as u
import pytest
from astropy.coordinates import Angle
from astropy.time import Time

from gammalike.analysis import AnalysisConfig, ConfigError

SEED004_PRINTOUT = """AnalysisConfig

    general:
        log: {level: info, filename: null, filemode: null, format: null, datefmt: null}
        outdir: .
        n_jobs: 1
        datasets_file: null
        models_file: null
    observations:
        datastore: $GAMMAPY_DATA/cta-1dc/index/gps
        obs_ids: [110380, 111140, 111159]
        obs_file: null
        obs_cone: {frame: null, lon: null, lat: null, radius: null}
        obs_time: {start: null, stop: null}
        required_irf: [aeff, edisp, psf, bkg]
    datasets:
        type: 3d
        stack: true
        geom:
            wcs:
                skydir: {frame: galactic, lon: 0.0 deg, lat: 0.0 deg}
                binsize: 0.02 deg
                width: {width: 8.0 deg, height: 6.0 deg}
                binsize_irf: 0.2 deg
            selection: {offset_max: 2.5 deg}
            axes:
                energy: {min: 0.1 TeV, max: 10.0 TeV, nbins: 1}
                energy_true: {min: 0.5 TeV, max: 20.0 TeV, nbins: 16}
        map_selection: [counts, exposure, background, psf, edisp]
        background:
            method: fov_background
            exclusion: null
            parameters: {}
        safe_mask:
            methods: [offset-max]
            parameters: {offset_max: 2.5 deg}
        on_region: {frame: null, lon: null, lat: null, radius: null}
        containment_correction: true
    fit:
        fit_range: {min: 0.1 TeV, max: 30.0 TeV}
    flux_points:
        energy: {min: null, max: null, nbins: null}
        source: source
        parameters: {selection_optional: all}
    excess_map:
        correlation_radius: 0.1 deg
        parameters: {}
        energy_edges: {min: null, max: null, nbins: null}
    light_curve:
        time_intervals: {start: null, stop: null}
        energy_edges: {min: null, max: null, nbins: null}
        source: source
        parameters: {selection_optional: all}
"""


def seed004_config():
    """The configuration cells of seed 004, verbatim."""
    config = AnalysisConfig()
    config.observations.datastore = "$GAMMAPY_DATA/cta-1dc/index/gps/"
    config.observations.obs_ids = [110380, 111140, 111159]
    config.datasets.type = "3d"
    config.datasets.geom.wcs.skydir = {"lon": "0 deg", "lat": "0 deg", "frame": "galactic"}
    config.datasets.geom.wcs.width = {"width": "8 deg", "height": "6 deg"}
    config.datasets.geom.wcs.binsize = "0.02 deg"
    config.datasets.geom.selection.offset_max = 2.5 * u.deg
    config.datasets.safe_mask.methods = ["offset-max"]
    config.datasets.safe_mask.parameters = {"offset_max": 2.5 * u.deg}
    config.datasets.background.method = "fov_background"
    config.fit.fit_range = {"min": "0.1 TeV", "max": "30.0 TeV"}
    config.datasets.geom.axes.energy.min = "0.1 TeV"
    config.datasets.geom.axes.energy.max = "10 TeV"
    config.datasets.geom.axes.energy.nbins = 1
    config.datasets.geom.wcs.binsize_irf = 0.2 * u.deg
    return config


def test_seed004_printout():
    assert str(seed004_config()) == SEED004_PRINTOUT


def test_values_are_quantities():
    config = seed004_config()
    wcs = config.datasets.geom.wcs
    assert isinstance(wcs.binsize, Angle) and wcs.binsize.to_value("deg") == pytest.approx(0.02)
    assert wcs.skydir.frame == "galactic" and wcs.skydir.lon.to_value("deg") == 0
    assert config.datasets.geom.axes.energy.min == 0.1 * u.TeV
    assert config.fit.fit_range.max == 30 * u.TeV
    assert config.datasets.safe_mask.parameters["offset_max"] == 2.5 * u.deg


def test_defaults_are_independent():
    first = AnalysisConfig()
    first.datasets.geom.wcs.skydir.lon = "10 deg"
    first.datasets.safe_mask.methods.append("aeff-max")
    second = AnalysisConfig()
    assert second.datasets.geom.wcs.skydir.lon is None
    assert second.datasets.safe_mask.methods == ["aeff-default"]


def test_yaml_round_trip(tmp_path):
    config = seed004_config()
    config.observations.obs_time = {"start": "2006-07-29T20:30:00", "stop": "2006-07-29T21:00:00"}
    config.light_curve.time_intervals = {"start": ["2006-07-29T20:30:00", "2006-07-29T20:40:00"],
                                         "stop": ["2006-07-29T20:40:00", "2006-07-29T20:50:00"]}
    config.datasets.background.exclusion = [{"frame": "icrs", "lon": "83 deg", "lat": "22 deg",
                                             "radius": "0.3 deg"}]
    path = tmp_path / "config.yaml"
    config.write(path)
    read = AnalysisConfig.read(path)
    assert read.to_yaml() == config.to_yaml()
    assert isinstance(read.observations.obs_time.start, Time)
    assert len(read.light_curve.time_intervals.start) == 2
    assert read.datasets.background.exclusion[0].radius.to_value("deg") == pytest.approx(0.3)
    assert AnalysisConfig.from_yaml(config.to_yaml()).to_dict() == config.to_dict()


def test_write_refuses_overwrite(tmp_path):
    path = tmp_path / "config.yaml"
    AnalysisConfig().write(path)
    with pytest.raises(FileExistsError, match="overwrite"):
        AnalysisConfig().write(path)
    AnalysisConfig().write(path, overwrite=True)


def test_parameters_strings_with_units_become_quantities():
    config = AnalysisConfig.from_yaml("datasets:\n  safe_mask:\n    parameters: {offset_max: 2.3 deg, "
                                      "aeff_percent: 0.1}\n")
    parameters = config.datasets.safe_mask.parameters
    assert parameters["offset_max"] == 2.3 * u.deg
    assert parameters["aeff_percent"] == 0.1
    assert config.flux_points.parameters == {"selection_optional": "all"}


def test_required_irf_alias():
    config = AnalysisConfig.from_yaml("observations: {required_irf: point-like}")
    assert config.observations.required_irf == ["aeff", "edisp"]


def test_update():
    config = AnalysisConfig()
    new = config.update({"datasets": {"type": "3d", "geom": {"wcs": {"binsize": "0.05 deg"}}}})
    assert new.datasets.type == "3d"
    assert new.datasets.geom.wcs.binsize.to_value("deg") == pytest.approx(0.05)
    # untouched fields keep their values
    assert new.datasets.geom.wcs.width.width.to_value("deg") == 5
    assert config.datasets.type == "1d"
    newer = new.update("fit:\n  fit_range: {min: 1 TeV}\n")
    assert newer.fit.fit_range.min == 1 * u.TeV and newer.datasets.type == "3d"


@pytest.mark.parametrize("kind", ["1d", "3d"])
def test_template(kind):
    config = AnalysisConfig.template(kind)
    assert config.datasets.type == kind
    assert AnalysisConfig.from_yaml(config.to_yaml()).to_yaml() == config.to_yaml()


def test_set_logging():
    config = AnalysisConfig()
    config.general.log.level = "WARNING"
    assert config.general.log.level == "warning"
    config.set_logging()
    assert logging.getLogger("gammalike").level == logging.WARNING
    config.general.log.level = "debug"
    config.set_logging()
    assert logging.getLogger("gammalike").level == logging.DEBUG
    logging.getLogger("gammalike").setLevel(logging.NOTSET)


# ------------------------------------------------------------------ errors: one line naming the field
@pytest.mark.parametrize("text, expected", [
    ("datasets:\n  geom:\n    axis: {}\n", r"datasets\.geom\.axis: unknown key \(did you mean 'axes'\?\)"),
    ("datasets:\n  geom:\n    wcs: {binsize: -0.02 deg}\n", r"datasets\.geom\.wcs\.binsize: must be a positive"),
    ("datasets:\n  geom:\n    axes:\n      energy: {min: 0.1}\n",
     r"datasets\.geom\.axes\.energy\.min: 0\.1 has no unit"),
    ("datasets:\n  geom:\n    axes:\n      energy: {min: '0.1'}\n",
     r"datasets\.geom\.axes\.energy\.min: '0\.1' has no unit"),
    ("fit:\n  fit_range: {min: 1 deg}\n", r"fit\.fit_range\.min: '1 deg' is not an energy"),
    ("observations:\n  obs_cone: {frame: gal}\n", r"observations\.obs_cone\.frame: .*'icrs' or 'galactic'"),
    ("datasets: {type: 2d}\n", r"datasets\.type: .*'1d' or '3d'"),
    ("datasets:\n  geom:\n    axes:\n      energy: {nbins: -3}\n", r"datasets\.geom\.axes\.energy\.nbins"),
    ("general: {log: {level: loud}}\n", r"general\.log\.level: unknown log level 'loud'"),
    ("generall: {}\n", r"generall: unknown key \(did you mean 'general'\?\)"),
])
def test_errors_name_the_field(text, expected):
    with pytest.raises(ConfigError, match=expected) as excinfo:
        AnalysisConfig.from_yaml(text, filename="config.yaml")
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("config.yaml: ")


def test_assignment_errors_name_the_full_path():
    config = AnalysisConfig()
    with pytest.raises(ConfigError, match=r"^datasets\.geom\.wcs\.binsize: must be a positive angle"):
        config.datasets.geom.wcs.binsize = "-0.02 deg"
    with pytest.raises(ConfigError, match=r"^datasets\.geom\.axes\.energy\.min: '0\.1' has no unit"):
        config.datasets.geom.axes.energy.min = "0.1"
    # a section assigned as a dict knows its path too
    config.datasets.geom.wcs.skydir = {"lon": "0 deg", "lat": "0 deg", "frame": "galactic"}
    with pytest.raises(ConfigError, match=r"^datasets\.geom\.wcs\.skydir\.lat: "):
        config.datasets.geom.wcs.skydir.lat = 3
    with pytest.raises(ConfigError, match=r"datasets\.geom\.wcs\.skydir\.colour: unknown key"):
        config.datasets.geom.wcs.skydir = {"colour": "red"}
    # the failed assignments left the values alone
    assert config.datasets.geom.wcs.binsize.to_value("deg") == pytest.approx(0.02)


def test_yaml_syntax_error():
    with pytest.raises(ConfigError, match=r"config.yaml: invalid YAML at line \d+: "):
        AnalysisConfig.from_yaml("general:\n  log: {level: info\n", filename="config.yaml")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        AnalysisConfig.from_yaml("- 1\n- 2\n")


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        AnalysisConfig.read(tmp_path / "nope.yaml")


@pytest.mark.requires_data
@pytest.mark.parametrize("name", ["estimators/crab_hess_fp/config.yaml", "PKS2155-steady/config_stack.yaml",
                                  "datasets/empty-dl4/config_stack.yaml"])
def test_read_shared_configs(data_path, name):
    config = AnalysisConfig.read(data_path / name)
    again = AnalysisConfig.from_yaml(config.to_yaml())
    assert again.to_dict() == config.to_dict()
    if "crab" in name:
        assert config.flux_points.source == "Crab"
        assert config.observations.obs_cone.radius.to_value("deg") == 5
        assert config.datasets.safe_mask.parameters == {"aeff_percent": 10}


def test_set_logging_to_file(tmp_path):
    config = AnalysisConfig()
    config.general.log = {"level": "info", "filename": str(tmp_path / "analysis.log"), "filemode": "w",
                          "format": "%(levelname)s %(message)s"}
    logger = logging.getLogger("gammalike")
    before = list(logger.handlers)
    try:
        config.set_logging()
        logging.getLogger("gammalike.analysis").info("hello from the test")
        for handler in logger.handlers:
            handler.flush()
        text = (tmp_path / "analysis.log").read_text()
        assert "INFO hello from the test" in text
    finally:
        for handler in logger.handlers[:]:
            if handler not in before:
                handler.close()
                logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
