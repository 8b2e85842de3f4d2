"""Tests of the pixel integration of spatial models (``integrate_geom``)."""
import time

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammalike.maps import MapAxis, WcsGeom
from gammalike.modeling.models import (
    DiskSpatialModel,
    GaussianSpatialModel,
    GeneralizedGaussianSpatialModel,
    PointSpatialModel,
    Shell2SpatialModel,
    ShellSpatialModel,
)
from gammalike.modeling.models.spatial_integrate import (
    _box_fractions,
    bilinear_weights_image,
    box_solid_angle,
    destination_lonlat,
    elliptical_radius,
)

GAL = dict(frame="galactic")

# small models (sub-pixel to few-pixel sizes on 0.02 deg pixels) need oversampling
SMALL = [
    GaussianSpatialModel(sigma="0.01 deg", **GAL),
    GaussianSpatialModel(lon_0="0.013 deg", lat_0="-0.007 deg", sigma="0.005 deg", e=0.7, phi="40 deg", **GAL),
    GeneralizedGaussianSpatialModel(r_0="0.02 deg", eta=1.0, **GAL),
    GeneralizedGaussianSpatialModel(r_0="0.03 deg", eta=0.2, e=0.5, phi="-30 deg", **GAL),
    DiskSpatialModel(r_0="0.05 deg", **GAL),
    DiskSpatialModel(lon_0="0.011 deg", r_0="0.03 deg", e=0.8, phi="70 deg", edge_width=0, **GAL),
    ShellSpatialModel(radius="0.05 deg", width="0.02 deg", **GAL),
    Shell2SpatialModel(r_0="0.04 deg", eta=0.3, **GAL),
]
LARGE = [
    GaussianSpatialModel(sigma="0.3 deg", e=0.6, phi="30 deg", **GAL),
    DiskSpatialModel(r_0="0.7 deg", edge_width=0.1, **GAL),
    ShellSpatialModel(radius="0.6 deg", width="0.2 deg", **GAL),
    Shell2SpatialModel(r_0="0.9 deg", eta=0.5, **GAL),
]


def _reference_image(model, geom, n=60):
    """Brute force: the brightness averaged on n x n sub-pixels times the exact pixel solid angle
    (no rescaling), on the whole map."""
    pars = model._pars_in_frame(geom.frame)
    nx, ny = geom.npix
    return _box_fractions(lambda lon, lat: model.evaluate(lon, lat, *pars), geom.wcs, (0, nx - 1, 0, ny - 1), n)


@pytest.mark.parametrize("model", SMALL + LARGE, ids=lambda m: type(m).__name__)
def test_integrates_to_one(model):
    geom = WcsGeom.create(skydir=(0, 0), npix=200, binsz=0.02, frame="galactic")
    m = model.integrate_geom(geom)
    # the map contains the whole source: fractions sum to 1 (issue 3: within 1e-3)
    assert m.data.sum() == pytest.approx(1.0, abs=1e-3)
    assert m.unit == u.dimensionless_unscaled and m.geom is geom
    assert np.all(m.data >= 0)


@pytest.mark.parametrize("model", SMALL + LARGE, ids=lambda m: type(m).__name__)
def test_pixel_values_match_brute_force(model):
    # per-pixel fractions agree with a brute-force sub-pixel integration; the brute force
    # itself sums to 1 within 1e-3, which checks the closed-form normalisation of evaluate()
    if model in LARGE:
        geom = WcsGeom.create(skydir=(0, 0), npix=(110, 100), binsz=0.02, frame="galactic")
        ref = _reference_image(model, geom, n=12)
    else:
        geom = WcsGeom.create(skydir=(0, 0), npix=(25, 21), binsz=0.02, frame="galactic")
        ref = _reference_image(model, geom, n=60)
    assert ref.sum() == pytest.approx(1.0, abs=1e-3)
    image = model.integrate_image(geom)
    # sharp edges (edge_width=0 disk) are smoothed over a sub-pixel and the shell profiles have
    # infinite slopes at their radii: allow more for the worst pixel there
    tol = 0.01
    if isinstance(model, (DiskSpatialModel, ShellSpatialModel, Shell2SpatialModel)):
        tol = 0.03
    assert np.abs(image - ref).max() <= tol * ref.max()
    assert np.abs(image - ref).sum() <= 3 * tol


def test_small_gaussian_uses_oversampling():
    # sigma = half a pixel: pixel-centre sampling is wrong by a few %, the integration is not
    model = GaussianSpatialModel(sigma="0.01 deg", **GAL)
    geom = WcsGeom.create(skydir=(0, 0), npix=21, binsz=0.02, frame="galactic")
    centre = model.integrate_image(geom)[10, 10]
    # closed form: erf(h / (2 sqrt(2) sigma))^2 for a square pixel of side h centred on the source
    from scipy.special import erf

    expected = erf(0.02 / (2 * np.sqrt(2) * 0.01)) ** 2
    # midpoint rule on sub-pixels of sigma / 5: ~(1/24) (1/5)^2 relative error at the peak
    assert centre == pytest.approx(expected, rel=4e-3, abs=0)
    no_oversampling = model.integrate_image(geom, oversampling_factor=1)[10, 10]
    assert abs(no_oversampling / expected - 1) > 0.05


@pytest.mark.parametrize("sigma", [0.05, 0.2])
def test_gaussian_containment(sigma):
    # fraction within r = 1 - exp(-r^2 / 2 sigma^2) (closed form); the circle is applied with
    # sub-pixel coverage weights so that the pixelisation of the circle does not matter
    from regions import CircleSkyRegion

    model = GaussianSpatialModel(lon_0="0.0005 deg", lat_0="0.0003 deg", sigma=f"{sigma} deg", **GAL)
    binsz = sigma / 15
    geom = WcsGeom.create(skydir=(0, 0), npix=int(10.5 * sigma / binsz), binsz=binsz, frame="galactic")
    image = model.integrate_image(geom)
    for r in (0.5, 1, 2, 3):
        region = CircleSkyRegion(model.position, radius=r * sigma * u.deg)
        contained = (image * geom.region_weights(region, oversampling_factor=6)).sum()
        assert contained == pytest.approx(1 - np.exp(-0.5 * r ** 2), rel=2e-3, abs=0)


@pytest.mark.parametrize("e", [0.0, 0.6, 0.95])
def test_elongated_models_conserve_flux(e):
    for model in (
        GaussianSpatialModel(sigma="0.1 deg", e=e, phi="37 deg", **GAL),
        DiskSpatialModel(r_0="0.2 deg", e=e, phi="37 deg", **GAL),
        GeneralizedGaussianSpatialModel(r_0="0.05 deg", eta=0.7, e=e, phi="37 deg", **GAL),
    ):
        geom = WcsGeom.create(skydir=(0, 0), npix=60, binsz=0.02, frame="galactic")
        ref = _reference_image(model, geom, n=10)
        # the closed-form normalisation (with sqrt(1 - e^2)) holds, and the map sums to 1
        assert ref.sum() == pytest.approx(1.0, abs=1e-3)
        assert model.integrate_image(geom).sum() == pytest.approx(1.0, abs=1e-3)


def test_elongation_orientation():
    # phi = 0: major axis north -> the image is wider in y (lat) than in x (lon)
    geom = WcsGeom.create(skydir=(0, 0), npix=101, binsz=0.01, frame="galactic")
    image = GaussianSpatialModel(sigma="0.1 deg", e=0.8, phi="0 deg", **GAL).integrate_image(geom)
    var_y = (image.sum(axis=1) * (np.arange(101) - 50) ** 2).sum()
    var_x = (image.sum(axis=0) * (np.arange(101) - 50) ** 2).sum()
    # sigma_minor / sigma_major = sqrt(1 - e^2) = 0.6
    assert np.sqrt(var_x / var_y) == pytest.approx(0.6, rel=1e-2, abs=0)


@pytest.mark.parametrize("geom_frame", ["galactic", "icrs"])
def test_frames_give_same_image(geom_frame):
    # the same physical ellipse defined in galactic and in icrs coordinates
    centre = SkyCoord(10.3 * u.deg, 2.1 * u.deg, frame="galactic")
    icrs = centre.icrs
    # the position angle of galactic north seen in icrs rotates phi between the frames
    north = centre.directional_offset_by(0 * u.deg, 1 * u.arcsec).icrs
    dphi = icrs.position_angle(north).deg
    gal_model = GaussianSpatialModel(lon_0=centre.l, lat_0=centre.b, sigma="0.1 deg", e=0.8, phi="20 deg",
                                     frame="galactic")
    icrs_model = GaussianSpatialModel(lon_0=icrs.ra, lat_0=icrs.dec, sigma="0.1 deg", e=0.8,
                                      phi=f"{20 + dphi} deg", frame="icrs")
    geom = WcsGeom.create(skydir=centre, npix=80, binsz=0.01, frame=geom_frame)
    a = gal_model.integrate_image(geom)
    b = icrs_model.integrate_image(geom)
    assert a.sum() == pytest.approx(1, abs=1e-3)
    assert np.abs(a - b).max() < 1e-4 * a.max() + 1e-12
    # evaluate_geom agrees too
    assert np.allclose(gal_model.evaluate_geom(geom).value, icrs_model.evaluate_geom(geom).value,
                       rtol=1e-4, atol=1e-6 * a.max())


def test_longitude_wrap():
    # a source at lon 359.9 on a map centred at lon 0 mirrors a source at lon 0.1
    geom = WcsGeom.create(skydir=(0, 0), npix=(61, 41), binsz=0.01, frame="galactic")
    left = DiskSpatialModel(lon_0="359.9 deg", lat_0="0 deg", r_0="0.05 deg", **GAL).integrate_image(geom)
    right = DiskSpatialModel(lon_0="0.1 deg", lat_0="0 deg", r_0="0.05 deg", **GAL).integrate_image(geom)
    assert left.sum() == pytest.approx(1, abs=1e-3)
    assert np.allclose(left, right[:, ::-1], atol=1e-9)
    # longitude increases to the left: lon 359.9 (= -0.1) is right of the centre (x > 30)
    assert np.argmax(left.sum(axis=0)) == 40
    point = PointSpatialModel(lon_0="359.9 deg", **GAL).integrate_image(geom)
    assert point.sum() == pytest.approx(1) and point[20, 40] == pytest.approx(1)


def test_source_partly_outside_the_map():
    geom = WcsGeom.create(skydir=(0, 0), npix=50, binsz=0.02, frame="galactic")
    # centred on the right edge (x = -0.5 deg): half of the flux is inside
    model = GaussianSpatialModel(lon_0="-0.5 deg", sigma="0.05 deg", **GAL)
    assert model.integrate_image(geom).sum() == pytest.approx(0.5, abs=2e-3)
    far = GaussianSpatialModel(lon_0="20 deg", sigma="0.05 deg", **GAL)
    assert far.integrate_image(geom).sum() == 0


def test_point_source_bilinear_weights():
    geom = WcsGeom.create(skydir=(0, 0), npix=11, binsz=0.1, frame="galactic")
    # 0.3 pixel right and 0.2 pixel up from the centre pixel (5, 5): lon decreases to the right
    model = PointSpatialModel(lon_0="-0.03 deg", lat_0="0.02 deg", **GAL)
    image = model.integrate_image(geom)
    assert image.sum() == pytest.approx(1)
    assert image[5, 5] == pytest.approx(0.7 * 0.8, rel=1e-3, abs=0)
    assert image[5, 6] == pytest.approx(0.3 * 0.8, rel=1e-3, abs=0)
    assert image[6, 5] == pytest.approx(0.7 * 0.2, rel=1e-3, abs=0)
    assert image[6, 6] == pytest.approx(0.3 * 0.2, rel=1e-3, abs=0)
    # the flux centroid is the exact position
    y, x = np.indices(image.shape)
    assert (image * x).sum() == pytest.approx(5.3, rel=1e-3, abs=0)
    assert (image * y).sum() == pytest.approx(5.2, rel=1e-3, abs=0)
    # outside the map: nothing
    assert bilinear_weights_image(geom, 10.0, 0.0).sum() == 0


def test_energy_axis_broadcast_and_speed():
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=5, name="energy_true")
    geom = WcsGeom.create(skydir=(83.63, 22.01), npix=100, binsz=0.02, axes=[axis])
    model = GaussianSpatialModel(lon_0="83.63 deg", lat_0="22.01 deg", sigma="0.05 deg")
    m = model.integrate_geom(geom)
    assert m.data.shape == (5, 100, 100)
    assert np.allclose(m.data.sum(axis=(1, 2)), 1, atol=1e-3)
    assert np.array_equal(m.data[0], m.data[4])
    model.integrate_geom(geom)
    # re-evaluation on a 100 x 100 cut-out with 5 energies: a few ms (issue 3 / brief);
    # generous bound for slow machines
    start = time.perf_counter()
    for i in range(20):
        model.sigma.value = 0.05 + 1e-4 * i
        model.integrate_geom(geom)
    assert (time.perf_counter() - start) / 20 < 0.02


def test_geometry_helpers():
    # destination points are at the requested separation and position angle
    lon, lat = destination_lonlat(10.0, 60.0, 0.5, np.array([0.0, 90.0, 200.0]))
    from gammalike.modeling.models.spatial import angular_separation_deg, position_angle_deg

    assert np.allclose(angular_separation_deg(10.0, 60.0, lon, lat), 0.5, atol=0)
    assert np.allclose(position_angle_deg(10.0, 60.0, lon, lat) % 360, [0, 90, 200], atol=0)
    # elliptical radius: on the major axis = separation, on the minor axis = sep / sqrt(1 - e^2)
    lon, lat = destination_lonlat(0.0, 0.0, 0.1, np.array([30.0, 120.0]))
    r = elliptical_radius(lon, lat, 0.0, 0.0, 0.6, 30.0)
    assert r == pytest.approx([0.1, 0.1 / 0.8], rel=1e-6, abs=0)
    # box solid angles equal WcsGeom.solid_angle on the map
    geom = WcsGeom.create(skydir=(0, 70), npix=(7, 5), binsz=1.0)
    assert np.allclose(box_solid_angle(geom.wcs, (0, 6, 0, 4)), geom.solid_angle().to_value("sr"), rtol=1e-10, atol=0)
