"""The Fermi-LAT gtpsf table (gammalike.irf.gtpsf) through PSFMap.read / write.

Expected numbers are computed in the tests from the raw FITS columns (gtpsf
help: Energy MeV, Exposure cm2 s, Psf sr-1 normalised over the solid angle,
Theta deg), independently of the reader.
"""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

from gammalike.irf import PSFMap

GTPSF = ("fermi-3fhl-gc", "fermi-3fhl-gc-psf-cube.fits.gz")


@pytest.fixture(scope="module")
def gtpsf_path():
    from tests.conftest import DATA, HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    return DATA.joinpath(*GTPSF)


def _raw(path):
    with fits.open(path) as hdulist:
        return (np.array(hdulist["PSF"].data["Energy"], float), np.array(hdulist["PSF"].data["Exposure"], float),
                np.array(hdulist["PSF"].data["Psf"], float), np.array(hdulist["THETA"].data["Theta"], float))


@pytest.mark.requires_data
def test_read_gtpsf_values_and_containment(gtpsf_path):
    energy, exposure, psf, theta = _raw(gtpsf_path)
    psf_map = PSFMap.read(gtpsf_path, format="gtpsf")
    assert psf_map.energy_axis_true.nbin == energy.size == 11
    np.testing.assert_allclose(psf_map.energy_axis_true.center.to_value("MeV"), energy, rtol=1e-12)
    position = SkyCoord(0, 0, unit="deg", frame="galactic")
    np.testing.assert_allclose(psf_map.exposure_map.get_by_coord(
        {"skycoord": position, "energy_true": energy * u.MeV, "rad": 0 * u.deg}), exposure * 1e-4, rtol=1e-12)
    # 68 % containment radius from the raw table: cumulative integral of 2 pi sin(theta) psf dtheta,
    # psf linear between the nodes, by trapezoids on a 20x finer grid
    fine = np.interp(np.linspace(0, theta.size - 1, 20 * (theta.size - 1) + 1), np.arange(theta.size), theta)
    values = np.array([np.interp(fine, theta, p) for p in psf])
    r = np.radians(fine)
    steps = np.diff(r) * np.pi * (np.sin(r[1:]) * values[:, 1:] + np.sin(r[:-1]) * values[:, :-1])
    cumulative = np.concatenate([np.zeros((len(energy), 1)), np.cumsum(steps, axis=1)], axis=1)
    expected = np.array([np.interp(0.68, c, fine) for c in cumulative])
    radius = psf_map.containment_radius(0.68, energy_true=energy * u.MeV, position=position).to_value("deg")
    # e.g. 0.156 deg at 10 GeV, 0.090 deg at 500 GeV; the table is normalised to 0.1 %
    np.testing.assert_allclose(radius, expected, rtol=1e-3)
    assert 0.15 < radius[0] < 0.16


@pytest.mark.requires_data
@pytest.mark.parametrize("format", ["gtpsf", "gadf"])
def test_gtpsf_round_trip(gtpsf_path, tmp_path, format):
    psf_map = PSFMap.read(gtpsf_path, format="gtpsf")
    path = tmp_path / "psf.fits"
    psf_map.write(path, format=format)
    again = PSFMap.read(path, format=format)
    np.testing.assert_array_equal(again.psf_map.data, psf_map.psf_map.data)
    np.testing.assert_allclose(again.exposure_map.quantity.to_value("m2 s"),
                               psf_map.exposure_map.quantity.to_value("m2 s"), rtol=1e-12)
    np.testing.assert_allclose(again.rad_axis.center.to_value("deg"), psf_map.rad_axis.center.to_value("deg"),
                               rtol=1e-12)
    with pytest.raises(FileExistsError):
        psf_map.write(path, format=format)


@pytest.mark.requires_data
def test_gtpsf_in_a_map_dataset(gtpsf_path):
    """A point source through the gtpsf PSF: npred sums to flux x exposure (the map holds the PSF)."""
    from gammalike.datasets import MapDataset
    from gammalike.maps import MapAxis, WcsGeom
    from gammalike.modeling.models import PointSpatialModel, PowerLawSpectralModel, SkyModel

    psf_map = PSFMap.read(gtpsf_path, format="gtpsf")
    energy = MapAxis.from_energy_bounds("10 GeV", "500 GeV", nbin=4, name="energy")
    energy_true = MapAxis.from_energy_bounds("10 GeV", "500 GeV", nbin=4, name="energy_true")
    geom = WcsGeom.create(skydir=(0, 0), binsz=0.05, width=(6, 6), frame="galactic", axes=[energy])
    dataset = MapDataset.create(geom, energy_axis_true=energy_true, name="fermi")
    dataset.exposure.quantity = np.full(dataset.exposure.data.shape, 3e11) * u.Unit("cm2 s")
    dataset.psf = psf_map
    dataset.edisp = None
    dataset.mask_safe = None
    spectral = PowerLawSpectralModel(index=2.5, amplitude="1e-9 cm-2 s-1 TeV-1", reference="0.1 TeV")
    dataset.models = [SkyModel(spectral, PointSpatialModel(lon_0="0 deg", lat_0="0 deg", frame="galactic"))]
    npred = dataset.npred()
    expected = spectral.integral(energy.edges[:-1], energy.edges[1:]) * 3e11 * u.Unit("cm2 s")
    np.testing.assert_allclose(npred.data.sum(axis=(1, 2)), expected.to_value(""), rtol=5e-3)
    # the image is as wide as the PSF: 68 % of the first bin within about 0.16 deg
    image = npred.data[0]
    sep = geom.to_image().separation(geom.center_skydir).to_value("deg")
    assert 0.6 < image[sep < 0.17].sum() / image.sum() < 0.76


def test_gtpsf_bad_input(tmp_path):
    path = tmp_path / "bad.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("Energy", "D", array=[1e4]), fits.Column("Psf", "2D", array=[[1, 2]])], name="PSF")]
    ).writeto(path)
    with pytest.raises(KeyError, match=r"bad.fits: .*gtpsf: HDU .*THETA.* not found"):
        PSFMap.read(path, format="gtpsf")
    with pytest.raises(ValueError, match="unknown format 'fermi'"):
        PSFMap.read(path, format="fermi")
