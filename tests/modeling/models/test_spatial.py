"""Tests of the analytic spatial models: parameters, position, evaluation, regions, YAML, plots."""
import matplotlib
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gammalike.maps import WcsGeom  # noqa: E402
from gammalike.modeling.models import (  # noqa: E402
    ConstantSpatialModel,
    DiskSpatialModel,
    GaussianSpatialModel,
    GeneralizedGaussianSpatialModel,
    Models,
    PointSpatialModel,
    Shell2SpatialModel,
    ShellSpatialModel,
    SpatialModel,
)
from gammalike.modeling.models.spatial import angular_separation_deg, position_angle_deg  # noqa: E402

ALL = [
    PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"),
    GaussianSpatialModel(lon_0="1 deg", lat_0="-0.5 deg", sigma="0.2 deg", frame="galactic"),
    GeneralizedGaussianSpatialModel(r_0="0.3 deg", eta=0.7),
    DiskSpatialModel(r_0="0.5 deg", e=0.3, phi="30 deg"),
    ShellSpatialModel(radius="0.5 deg", width="0.1 deg"),
    Shell2SpatialModel(r_0="0.5 deg", eta=0.3),
    ConstantSpatialModel(value="2 sr-1"),
]


def _solid_angle_integral(model, half_width, n=1201):
    """Brute-force integral of the surface brightness on a fine lon/lat grid around (0, 0)."""
    lon = np.linspace(-half_width, half_width, n)
    lon2, lat2 = np.meshgrid(lon, lon)
    values = model.evaluate(lon2, lat2, *model.parameter_values())
    d = np.radians(lon[1] - lon[0])
    return np.sum(values * np.cos(np.radians(lat2))) * d * d


@pytest.mark.parametrize("model", ALL, ids=lambda m: type(m).__name__)
def test_yaml_round_trip(model):
    data = model.to_dict()
    assert data["frame"] == model.frame
    new = SpatialModel.from_dict(data)
    assert type(new) is type(model)
    assert new.frame == model.frame
    assert np.array_equal(new.parameters.values, model.parameters.values)
    assert [p.unit for p in new.parameters] == [p.unit for p in model.parameters]


def test_models_yaml_with_spatial_models(tmp_path):
    # seed 004's model block (PointSpatialModel in galactic frame), written and read back
    from gammalike.modeling.models import PowerLaw2SpectralModel, SkyModel

    model = SkyModel(
        spectral_model=PowerLaw2SpectralModel(),
        spatial_model=DiskSpatialModel(lon_0="0.02 deg", lat_0="0.01 deg", r_0="0.3 deg", e=0.2,
                                       phi="10 deg", frame="galactic"),
        name="GC-1",
    )
    path = tmp_path / "models.yaml"
    Models([model]).write(path)
    read = Models.read(path)
    spatial = read["GC-1"].spatial_model
    assert isinstance(spatial, DiskSpatialModel) and spatial.frame == "galactic"
    assert spatial.r_0.value == 0.3 and spatial.phi.value == 10


@pytest.mark.requires_data
def test_models_read_data_files(data_path):
    # the spatial blocks of the shared model files load (PointSpatialModel, GaussianSpatialModel, template)
    models = Models.read(data_path / "tests/models/gc_example_models.yaml")
    assert models["gc"].spatial_model.frame == "galactic"
    models = Models.read(data_path / "datasets/simulations/simulated_map_dataset_model.yaml")
    gauss = [m for m in models if isinstance(getattr(m, "spatial_model", None), GaussianSpatialModel)]
    assert gauss and gauss[0].spatial_model.frame == "galactic"


def test_position_and_frame():
    model = PointSpatialModel(lon_0="0.02 deg", lat_0="0.01 deg", frame="galactic")
    pos = model.position
    assert isinstance(pos, SkyCoord)
    assert pos.frame.name == "galactic"
    assert pos.l.deg == pytest.approx(0.02) and pos.b.deg == pytest.approx(0.01)
    assert model.position_lonlat == pytest.approx((0.02, 0.01))
    # seed 002: lon_0 / lat_0 from SkyCoord ra / dec
    coord = SkyCoord(184.47 * u.deg, 30.12 * u.deg)
    model = PointSpatialModel(lon_0=coord.ra, lat_0=coord.dec, frame="icrs")
    assert model.lon_0.value == pytest.approx(184.47)
    # position setter transforms into the model frame
    model.position = SkyCoord(0 * u.deg, 0 * u.deg, frame="galactic")
    assert model.position.separation(SkyCoord(0 * u.deg, 0 * u.deg, frame="galactic")).deg < 1e-8
    assert model.lat_0.min == -90 and model.lat_0.max == 90


def test_gaussian_normalisation_and_value():
    model = GaussianSpatialModel(sigma="0.2 deg")
    # integral over the sky = 1 (small-angle normalisation)
    assert _solid_angle_integral(model, 2.0) == pytest.approx(1.0, rel=1e-4, abs=0)
    # at one sigma the brightness falls by exp(-1/2)
    peak = model(0 * u.deg, 0 * u.deg)
    one_sigma = model(0.2 * u.deg, 0 * u.deg)
    assert (one_sigma / peak).value == pytest.approx(np.exp(-0.5), rel=1e-6, abs=0)
    assert peak.unit == u.Unit("sr-1")
    # peak value 1 / (2 pi sigma^2)
    assert peak.value == pytest.approx(1 / (2 * np.pi * np.radians(0.2) ** 2), rel=1e-12, abs=0)
    elongated = GaussianSpatialModel(sigma="0.2 deg", e=0.6, phi="0 deg")
    assert _solid_angle_integral(elongated, 2.0) == pytest.approx(1.0, rel=1e-4, abs=0)
    # major axis north (phi = 0): one sigma along lat, 0.8 sigma along lon
    ratio_north = elongated(0 * u.deg, 0.2 * u.deg) / elongated(0 * u.deg, 0 * u.deg)
    ratio_east = elongated(0.16 * u.deg, 0 * u.deg) / elongated(0 * u.deg, 0 * u.deg)
    assert ratio_north.value == pytest.approx(np.exp(-0.5), rel=1e-4, abs=0)
    assert ratio_east.value == pytest.approx(np.exp(-0.5), rel=1e-4, abs=0)
    # phi = 90 deg: major axis east
    east = GaussianSpatialModel(sigma="0.2 deg", e=0.6, phi="90 deg")
    assert (east(0.2 * u.deg, 0 * u.deg) / east(0 * u.deg, 0 * u.deg)).value == pytest.approx(np.exp(-0.5), rel=1e-4, abs=0)


def test_call_with_skycoord():
    model = GaussianSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg", sigma="0.1 deg")
    coord = SkyCoord(83.63 * u.deg, 22.11 * u.deg).galactic
    # 0.1 deg north of the centre: exp(-1/2) of the peak, whatever the SkyCoord's frame
    ratio = model(coord) / model(83.63 * u.deg, 22.01 * u.deg)
    assert ratio.value == pytest.approx(np.exp(-0.5), rel=1e-5, abs=0)


@pytest.mark.parametrize("eta", [0.2, 0.5, 1.0])
def test_generalized_gaussian(eta):
    model = GeneralizedGaussianSpatialModel(r_0="0.1 deg", eta=eta)
    # closed-form normalisation 1 / (2 pi r_0^2 eta Gamma(2 eta)) integrates to 1
    assert _solid_angle_integral(model, 3.0 if eta == 1 else 1.0, n=1201 if eta == 1 else 601) == pytest.approx(
        1.0, rel=2e-3, abs=0)
    # at r = r_0 the profile is exp(-1) of the centre
    ratio = model(0.1 * u.deg, 0 * u.deg) / model(0 * u.deg, 0 * u.deg)
    assert ratio.value == pytest.approx(np.exp(-1), rel=1e-6, abs=0)
    # evaluation radius contains all but 1e-6: Gamma(2 eta, u) / Gamma(2 eta)
    from scipy.special import gammaincc

    radius = model.evaluation_radius.deg
    assert gammaincc(2 * eta, (radius / 0.1) ** (1 / eta)) == pytest.approx(1e-6, rel=1e-3, abs=0)


def test_generalized_gaussian_eta_half_is_gaussian():
    # eta = 0.5: exp(-(r / r_0)^2) = Gaussian with sigma = r_0 / sqrt(2)
    gg = GeneralizedGaussianSpatialModel(r_0="0.2 deg", eta=0.5)
    g = GaussianSpatialModel(sigma=f"{0.2 / np.sqrt(2)} deg")
    lon = np.linspace(0, 0.5, 7) * u.deg
    assert np.allclose(gg(lon, 0 * u.deg), g(lon, 0 * u.deg), rtol=1e-10, atol=0)


def test_disk_normalisation_and_edge():
    model = DiskSpatialModel(r_0="0.5 deg")
    assert _solid_angle_integral(model, 0.7, n=1001) == pytest.approx(1.0, rel=3e-3, abs=0)
    assert model(0.6 * u.deg, 0 * u.deg).value == pytest.approx(0, abs=1e-6)
    inside = 1 / (2 * np.pi * (1 - np.cos(np.radians(0.5))))
    # default edge_width 0.01 changes the normalisation by ~1e-5 only
    assert model(0.4 * u.deg, 0 * u.deg).value == pytest.approx(inside, rel=1e-4, abs=0)
    # edge_width is the 95 % -> 5 % width (relative to r_0), centred on r_0
    smooth = DiskSpatialModel(r_0="0.5 deg", edge_width=0.2)
    centre = smooth(0 * u.deg, 0 * u.deg).value
    assert smooth(0.45 * u.deg, 0 * u.deg).value / centre == pytest.approx(0.95, rel=1e-3, abs=0)
    assert smooth(0.55 * u.deg, 0 * u.deg).value / centre == pytest.approx(0.05, rel=1e-2, abs=0)
    assert smooth(0.5 * u.deg, 0 * u.deg).value / centre == pytest.approx(0.5, rel=1e-3, abs=0)
    # normalisation with the smooth edge (closed form pi^3 k^2 / 12 term) is exact
    assert _solid_angle_integral(smooth, 0.9, n=901) == pytest.approx(1.0, rel=1e-4, abs=0)
    sharp = DiskSpatialModel(r_0="0.5 deg", edge_width=0)
    assert sharp(0.4999 * u.deg, 0 * u.deg).value == pytest.approx(inside, rel=1e-10, abs=0)
    assert sharp(0.5001 * u.deg, 0 * u.deg).value == 0
    # elliptical disk: semi-minor axis r_0 sqrt(1 - e^2) = 0.4 deg at phi = 0 (east-west)
    ellipse = DiskSpatialModel(r_0="0.5 deg", e=0.6, edge_width=0)
    assert ellipse(0.39 * u.deg, 0 * u.deg).value > 0 and ellipse(0.41 * u.deg, 0 * u.deg).value == 0
    assert ellipse(0 * u.deg, 0.49 * u.deg).value > 0 and ellipse(0 * u.deg, 0.51 * u.deg).value == 0
    assert _solid_angle_integral(ellipse, 0.7, n=1001) == pytest.approx(1.0, rel=3e-3, abs=0)


def test_constant():
    model = ConstantSpatialModel(value="2 sr-1")
    assert np.all(model(np.zeros(3) * u.deg, np.ones(3) * u.deg).value == 2)
    assert model.position is None and model.evaluation_radius is None
    geom = WcsGeom.create(npix=(10, 5), binsz=1, frame="galactic")
    m = model.integrate_geom(geom)
    # value * pixel solid angle
    assert np.allclose(m.data, 2 * geom.solid_angle().to_value("sr"), atol=0)


def test_angular_separation_and_position_angle():
    assert angular_separation_deg(0, 0, 90, 0) == pytest.approx(90)
    assert angular_separation_deg(10, 89.9, 190, 89.9) == pytest.approx(0.2)
    assert angular_separation_deg(359.9, 0, 0.1, 0) == pytest.approx(0.2)
    # north is PA 0, east PA 90
    assert position_angle_deg(0, 0, 0, 1) == pytest.approx(0)
    assert position_angle_deg(0, 0, 1, 0) == pytest.approx(90)


def test_unknown_keyword_warns():
    # seed 000 passes r0= to GaussianSpatialModel; gammapy ignores it, we warn
    with pytest.warns(UserWarning, match="r0"):
        model = GaussianSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", r0="2.3e-02 deg", frame="galactic")
    assert model.sigma.value == 1.0


def test_unknown_frame():
    with pytest.raises(ValueError, match="frame"):
        PointSpatialModel(frame="altaz")


def test_evaluation_radius_and_region():
    from regions import CircleSkyRegion

    assert GaussianSpatialModel(sigma="0.2 deg").evaluation_radius.deg == pytest.approx(1.0)
    assert PointSpatialModel().evaluation_radius.deg == 0
    assert ShellSpatialModel(radius="0.5 deg", width="0.1 deg").evaluation_radius.deg == pytest.approx(0.6)
    assert Shell2SpatialModel(r_0="0.5 deg", eta=0.3).evaluation_radius.deg == pytest.approx(0.5)
    disk = DiskSpatialModel(r_0="0.5 deg", edge_width=0.1)
    # r_0 + 5 tanh scales, k = edge_width r_0 / (2 artanh 0.9): the profile is < 5e-5 there
    expected = 0.5 + 5 * 0.05 / (2 * np.arctanh(0.9))
    assert disk.evaluation_radius.deg == pytest.approx(expected)
    region = disk.evaluation_region
    assert isinstance(region, CircleSkyRegion) and region.radius.to_value("deg") == pytest.approx(expected)
    assert ConstantSpatialModel().evaluation_region is None
    assert PointSpatialModel().evaluation_region is None


def test_to_region():
    from regions import CircleAnnulusSkyRegion, EllipseSkyRegion, PointSkyRegion

    assert isinstance(PointSpatialModel().to_region(), PointSkyRegion)
    region = GaussianSpatialModel(sigma="0.2 deg", e=0.6, phi="30 deg").to_region()
    assert isinstance(region, EllipseSkyRegion)
    # height = 2 x semi-major along position angle phi; width = 2 x semi-minor
    assert region.height.to_value("deg") == pytest.approx(0.4)
    assert region.width.to_value("deg") == pytest.approx(0.32)
    assert region.angle.to_value("deg") == pytest.approx(30)
    assert isinstance(GeneralizedGaussianSpatialModel().to_region(), EllipseSkyRegion)
    assert isinstance(DiskSpatialModel().to_region(), EllipseSkyRegion)
    annulus = ShellSpatialModel(radius="0.5 deg", width="0.1 deg").to_region()
    assert isinstance(annulus, CircleAnnulusSkyRegion)
    assert annulus.inner_radius.to_value("deg") == pytest.approx(0.5)
    assert annulus.outer_radius.to_value("deg") == pytest.approx(0.6)
    annulus = Shell2SpatialModel(r_0="0.5 deg", eta=0.2).to_region()
    assert annulus.inner_radius.to_value("deg") == pytest.approx(0.4)


def test_ellipse_region_orientation_matches_model():
    # the region's height axis points along the model's major axis: a point on the region
    # boundary along that axis sits at one sigma of the model
    from regions import PixCoord

    model = GaussianSpatialModel(lon_0="10 deg", lat_0="20 deg", sigma="0.3 deg", e=0.8, phi="50 deg")
    geom = WcsGeom.create(skydir=model.position, npix=201, binsz=0.01, proj="TAN")
    region = model.to_region().to_pixel(geom.wcs)
    tip = model.position.directional_offset_by(50 * u.deg, 0.299 * u.deg)
    x, y = geom.wcs.world_to_pixel(tip)
    assert region.contains(PixCoord(x, y))
    off = model.position.directional_offset_by(140 * u.deg, 0.299 * u.deg)  # beyond the minor axis (0.18)
    x, y = geom.wcs.world_to_pixel(off)
    assert not region.contains(PixCoord(x, y))


def test_position_error():
    model = PointSpatialModel(lon_0="10 deg", lat_0="60 deg")
    # uncorrelated errors: 0.2 deg in lon (0.1 deg on the sky at lat 60), 0.05 deg in lat
    model.covariance = np.diag([0.2 ** 2, 0.05 ** 2])
    region = model.position_error
    assert region.width.to_value("deg") == pytest.approx(2 * 0.1, rel=1e-6, abs=0)
    assert region.height.to_value("deg") == pytest.approx(2 * 0.05, rel=1e-6, abs=0)
    assert region.angle.to_value("deg") == pytest.approx(0, abs=1e-6)
    # fully correlated east / north errors: ellipse along PA 45 deg, minor axis 0
    model = PointSpatialModel(lon_0="0 deg", lat_0="0 deg")
    model.covariance = np.array([[0.01, 0.01], [0.01, 0.01]])
    region = model.position_error
    assert abs(region.angle.to_value("deg")) == pytest.approx(45)
    assert max(region.width.to_value("deg"), region.height.to_value("deg")) == pytest.approx(2 * np.sqrt(0.02))


def test_plot_and_plot_error():
    model = GaussianSpatialModel(lon_0="83.6 deg", lat_0="22 deg", sigma="0.2 deg", e=0.5, phi="20 deg")
    model.covariance = np.diag([0.01, 0.01, 0, 0, 0])
    ax = model.plot()
    image = ax.images[0].get_array()
    # the brightest pixel is at the centre of the default geometry (centred on the source)
    iy, ix = np.unravel_index(np.argmax(image), image.shape)
    assert abs(ix - image.shape[1] / 2) <= 1 and abs(iy - image.shape[0] / 2) <= 1
    n_patches = len(ax.patches)
    model.plot_error(ax=ax)
    assert len(ax.patches) == n_patches + 1
    plt.close("all")
    geom = WcsGeom.create(skydir=(184.55, -5.78), npix=50, binsz=0.02, frame="galactic")
    ax = PointSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", frame="galactic").plot(geom=geom)
    assert np.nanmax(ax.images[0].get_array()) > 0
    plt.close("all")
    with pytest.raises(ValueError, match="geom"):
        ConstantSpatialModel().plot()
