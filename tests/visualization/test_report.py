"""Tests of the HTML report (`gammalike.visualization.report`) and its figures."""
import base64
import re
from types import SimpleNamespace

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table
from numpy.testing import assert_allclose

from gammalike.cli.demo import simulate_spectrum_dataset
from gammalike.datasets import MapDataset
from gammalike.estimators import FluxPoints
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling import Fit
from gammalike.modeling.models import (
    FoVBackgroundModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)
from gammalike.visualization.report import render_report, write_analysis_report, write_report
from gammalike.visualization.report_figures import dataset_images, map_style, residual_significance_image

IMG = '<img src="data:image/png;base64,'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _images(text):
    return re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)


def _assert_self_contained(text):
    """No external resource: every src is a data URI, no scripts, style sheets or remote URLs."""
    assert re.findall(r'src="(?!data:image/png;base64,)', text) == []
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert "url(" not in text.lower()
    assert not re.search(r'(src|href)="(https?:)?//', text)


# ----------------------------------------------------------------------------- synthetic inputs
@pytest.fixture(scope="module")
def sky_maps():
    rng = np.random.default_rng(0)
    geom = WcsGeom.create(skydir=(83.63, 22.01), binsz=0.05, width=2, frame="icrs")
    return {
        "counts": Map.from_geom(geom, data=rng.poisson(5, geom.data_shape).astype(float)),
        "excess": Map.from_geom(geom, data=rng.normal(0, 2, geom.data_shape)),
        "significance": Map.from_geom(geom, data=rng.normal(0, 1, geom.data_shape)),
    }


@pytest.fixture(scope="module")
def spectrum_fit():
    dataset = simulate_spectrum_dataset(random_state=1)
    dataset.models = SkyModel(PowerLawSpectralModel(index=2.3, amplitude="1e-11 cm-2 s-1 TeV-1"), name="src")
    result = Fit().run(dataset)
    return dataset, result


@pytest.fixture(scope="module")
def flux_points():
    edges = np.geomspace(0.1, 100, 7)
    e_ref = np.sqrt(edges[:-1] * edges[1:])
    dnde = 2e-11 * e_ref**-2.5
    table = Table({
        "e_ref": e_ref * u.TeV, "e_min": edges[:-1] * u.TeV, "e_max": edges[1:] * u.TeV,
        "dnde": dnde * u.Unit("cm-2 s-1 TeV-1"), "dnde_err": 0.1 * dnde * u.Unit("cm-2 s-1 TeV-1"),
        "dnde_ul": 3 * dnde * u.Unit("cm-2 s-1 TeV-1"), "is_ul": [False] * 5 + [True],
    })
    table.meta["SED_TYPE"] = "dnde"
    return FluxPoints.from_table(table, sed_type="dnde")


@pytest.fixture(scope="module")
def light_curve():
    table = Table({
        "time_min": 60000 + np.arange(4.0), "time_max": 60001 + np.arange(4.0),
        "e_min": [1.0] * 4 * u.TeV, "e_max": [10.0] * 4 * u.TeV,
        "flux": [1.0e-11, 1.2e-11, 0.9e-11, 1.1e-11] * u.Unit("cm-2 s-1"),
        "flux_err": [1e-12] * 4 * u.Unit("cm-2 s-1"),
    })
    table.meta.update(SED_TYPE="flux", TIMESYS="tt", MJDREFI=0, MJDREFF=0.0, TIMEUNIT="d")
    return FluxPoints.from_table(table, format="lightcurve", sed_type="flux")


def _extra_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 4, 9])
    ax.set_xlabel("x")
    return fig


# ----------------------------------------------------------------------------- report
def test_report_embeds_every_figure(tmp_path, sky_maps, spectrum_fit, flux_points, light_curve):
    import matplotlib.pyplot as plt

    dataset, result = spectrum_fit
    plt.close("all")  # figures left by fixtures: only this test's figures count below
    filename = tmp_path / "report.html"
    extra = {"A parabola": _extra_figure()}
    path = write_report(
        filename, title="Synthetic <report>", config={"general": {"outdir": "."}},
        observations=Table({"OBS_ID": [1, 2], "LIVETIME": [1800.0, 1700.0] * u.s}),
        datasets=[dataset], fit_result=result, models=dataset.models, flux_points=flux_points,
        maps=sky_maps, light_curve=light_curve, extra_figures=extra,
    )
    assert path == filename
    text = filename.read_text(encoding="utf-8")
    # 3 maps + counts/excess spectra + correlation matrix + SED + fit residuals + light curve + extra = 9
    assert text.count(IMG) == 9
    for data in _images(text):
        assert base64.b64decode(data).startswith(PNG_SIGNATURE)
    _assert_self_contained(text)
    # one file, no temporary file left behind by the atomic write
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    # the pyplot figure given as extra figure was closed after encoding
    assert plt.get_fignums() == []
    # the title is escaped; the sections and the fit table are there
    assert "Synthetic &lt;report&gt;" in text
    for heading in ("Configuration", "Observations", "Sky maps", "Counts and excess spectra", "Fit",
                    "Spectral energy distributions", "Residuals", "Light curve"):
        assert f">{heading}</h2>" in text
    index = dataset.models["src"].spectral_model.index
    # value with the digits its error needs, error with two significant digits
    assert f">{index.value:.3g}" in text and f">{index.error:.2g}<" in text
    assert "converged" in text
    assert "Could not draw" not in text


def test_report_refuses_to_overwrite(tmp_path, sky_maps):
    filename = tmp_path / "report.html"
    write_report(filename, title="first", maps={"counts": sky_maps["counts"]})
    before = filename.read_text()
    with pytest.raises(FileExistsError, match="report.html"):
        write_report(filename, title="second", maps={"counts": sky_maps["counts"]})
    assert filename.read_text() == before
    write_report(filename, title="second", maps={"counts": sky_maps["counts"]}, overwrite=True)
    assert "<title>second</title>" in filename.read_text()


def test_report_sections_only_for_given_inputs(sky_maps):
    text, n_figures = render_report(title="maps only", maps=sky_maps)
    assert n_figures == 3 == text.count(IMG)
    assert "Light curve" not in text and ">Fit</h2>" not in text


def test_failed_figure_is_noted_not_fatal():
    # a 3-bin map of a non-additive quantity cannot be shown as one image
    geom = WcsGeom.create(skydir=(0, 0), binsz=0.1, width=1,
                          axes=[MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3)])
    text, n_figures = render_report(title="bad", maps={"significance": Map.from_geom(geom)})
    assert n_figures == 0
    assert "Could not draw map" in text


def test_map_style_from_name(sky_maps):
    assert map_style("significance", sky_maps["significance"])["symmetric"]
    assert map_style("excess", sky_maps["excess"])["symmetric"]
    style = map_style("counts", sky_maps["counts"])
    assert not style["symmetric"] and style["stretch"] == "sqrt" and style["additive"]


# ----------------------------------------------------------------------------- 3D datasets
def _map_dataset(signal=True):
    """Small MapDataset: 1 reco bin, background 4 counts per pixel, counts = background (+ a spot)."""
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=1)
    geom = WcsGeom.create(skydir=(83.63, 22.01), binsz=0.02, width=(0.42, 0.42), frame="icrs", axes=[energy])
    dataset = MapDataset.create(geom, name="small")
    dataset.background = Map.from_geom(geom, data=np.full(geom.data_shape, 4.0))
    counts = np.full(geom.data_shape, 4.0)
    if signal:
        counts[0, 10, 10] = 8.0
    dataset.counts = Map.from_geom(geom, data=counts)
    dataset.exposure = Map.from_geom(dataset.exposure.geom, data=np.full(dataset.exposure.data.shape, 1e11),
                                     unit="cm2 s")
    dataset.mask_safe = Map.from_geom(geom, data=np.ones(geom.data_shape, dtype=bool), dtype=bool)
    return dataset


def test_dataset_images_significance_closed_form():
    dataset = _map_dataset()
    maps = dataset_images(dataset, correlation_radius=0.1 * u.deg)
    assert_allclose(maps["counts"].data.sum(), 21 * 21 * 4 + 4)
    assert_allclose(maps["excess"].data[10, 10], 4)
    # disk of radius 5 pixels around the spot: 81 pixel centres (x^2 + y^2 <= 25)
    n_on, mu = 81 * 4 + 4, 81 * 4
    expected = np.sqrt(2 * (n_on * np.log(n_on / mu) - n_on + mu))
    assert_allclose(maps["significance"].data[10, 10], expected, rtol=1e-6)
    # far from the spot (disk not reaching it, inside the image): counts equal the background
    assert_allclose(maps["significance"].data[3, 16], 0, atol=1e-6)


def test_residual_significance_uses_the_full_model():
    dataset = _map_dataset(signal=False)
    # counts = background and no source: no residual anywhere
    assert_allclose(residual_significance_image(dataset).data, 0, atol=1e-6)


def test_report_of_map_dataset(tmp_path):
    dataset = _map_dataset()
    spatial = PointSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg", frame="icrs")
    model = SkyModel(PowerLawSpectralModel(index=2.5, amplitude="1e-13 cm-2 s-1 TeV-1"), spatial, name="spot")
    dataset.models = Models([model, FoVBackgroundModel(dataset_name="small")])
    text, n_figures = render_report(title="3D", datasets=[dataset])
    # counts, excess, significance images + SED of "spot" + residuals (no fit result: no correlation)
    assert n_figures == 5 == text.count(IMG)
    assert "Could not draw" not in text
    assert "spot" in text and "small-bkg" in text


def test_write_analysis_report(tmp_path, spectrum_fit, flux_points):
    # the Analysis is duck-typed: what `gammalike run` hands over after its steps
    dataset, result = spectrum_fit
    config = SimpleNamespace(general=SimpleNamespace(outdir=str(tmp_path)),
                             flux_points=SimpleNamespace(source="src"),
                             to_yaml=lambda: "general:\n  outdir: here\n")
    analysis = SimpleNamespace(config=config, observations=None, datasets=[dataset], models=dataset.models,
                               fit_result=result, flux_points=SimpleNamespace(data=flux_points),
                               excess_map=None, light_curve=None, products={"models": tmp_path / "models.yaml"})
    path = write_analysis_report(analysis)
    assert path == tmp_path / "report.html"
    text = path.read_text()
    # spectra, correlation, SED with the flux points, fit residuals
    assert text.count(IMG) == 4
    assert "outdir: here" in text and "models.yaml" in text
    with pytest.raises(FileExistsError):
        write_analysis_report(analysis)
