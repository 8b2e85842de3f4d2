import numpy as np
import pytest
from astropy.io import fits
from numpy.testing import assert_allclose

from gammalike.datasets import SpectrumDatasetOnOff
from gammalike.datasets.ogip import ogip_filenames


def assert_same_dataset(d1, d2, edisp_rtol=0):
    assert d1.name == d2.name
    for name in ("counts", "counts_off", "acceptance", "acceptance_off"):
        assert_allclose(getattr(d1, name).data, getattr(d2, name).data, rtol=1e-15, err_msg=name)
    assert_allclose(d1.exposure.quantity.to_value("cm2 s"), d2.exposure.quantity.to_value("cm2 s"), rtol=1e-12)
    assert np.array_equal(d1.mask_safe.data, d2.mask_safe.data)
    assert_allclose(d1.livetime.to_value("s"), d2.livetime.to_value("s"), rtol=1e-15)
    assert_allclose(d1.energy_axis.edges, d2.energy_axis.edges, rtol=1e-12)
    assert_allclose(d1.energy_axis_true.edges, d2.energy_axis_true.edges, rtol=1e-12)
    # RMF MATRIX is float32 on disk
    assert_allclose(d1.edisp.pdf_matrix, d2.edisp.pdf_matrix, rtol=edisp_rtol, atol=1e-7)
    assert_allclose(d1.stat_sum(), d2.stat_sum(), rtol=1e-6)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("pha_obs23523.fits", ("pha_obs23523_arf.fits", "pha_obs23523_rmf.fits", "pha_obs23523_bkg.fits")),
        ("obs_1.fits.gz", ("obs_1_arf.fits.gz", "obs_1_rmf.fits.gz", "obs_1_bkg.fits.gz")),
        ("dir/spec.pha", ("spec_arf.pha", "spec_rmf.pha", "spec_bkg.pha")),
    ],
)
def test_ogip_filenames(name, expected):
    names = ogip_filenames(name)
    assert (names["arf"], names["rmf"], names["bkg"]) == expected


def test_round_trip_synthetic(make_onoff_dataset, tmp_path):
    dataset = make_onoff_dataset(name="obs")
    dataset.mask_safe = np.array([0, 1, 1, 1, 1, 0], bool)
    filename = tmp_path / "pha_obsobs.fits"
    dataset.write(filename)
    header = fits.getheader(filename, "SPECTRUM")
    # header keywords name the companions next to the PHA
    assert header["ANCRFILE"] == "pha_obsobs_arf.fits"
    assert header["RESPFILE"] == "pha_obsobs_rmf.fits"
    assert header["BACKFILE"] == "pha_obsobs_bkg.fits"
    assert header["EXPOSURE"] == 1000
    for suffix in ("arf", "rmf", "bkg"):
        assert (tmp_path / f"pha_obsobs_{suffix}.fits").exists()
    read = SpectrumDatasetOnOff.read(filename)
    assert_same_dataset(dataset, read)
    assert read.counts.geom.region is not None


def test_write_refuses_overwrite(make_onoff_dataset, tmp_path):
    dataset = make_onoff_dataset(name="obs")
    filename = tmp_path / "obs.fits"
    dataset.write(filename)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    changed = dataset.copy(name="other")
    changed.counts.data = changed.counts.data + 1
    with pytest.raises(FileExistsError, match="overwrite"):
        changed.write(filename)
    # nothing was touched, and no temporary file was left behind
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before
    changed.write(filename, overwrite=True)
    assert SpectrumDatasetOnOff.read(filename).name == "other"


def test_missing_ancrfile(make_onoff_dataset, tmp_path):
    dataset = make_onoff_dataset(name="obs")
    filename = tmp_path / "obs.fits"
    dataset.write(filename)
    # companion named but not there
    (tmp_path / "obs_arf.fits").unlink()
    with pytest.raises(FileNotFoundError, match="obs_arf.fits") as excinfo:
        SpectrumDatasetOnOff.read(filename)
    assert "obs.fits" in str(excinfo.value)
    # keyword missing altogether
    with fits.open(filename) as hdulist:
        del hdulist["SPECTRUM"].header["ANCRFILE"]
        hdulist.writeto(tmp_path / "noarf.fits")
    with pytest.raises(ValueError, match="ANCRFILE") as excinfo:
        SpectrumDatasetOnOff.read(tmp_path / "noarf.fits")
    assert "noarf.fits" in str(excinfo.value)


def test_missing_pha(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.fits"):
        SpectrumDatasetOnOff.read(tmp_path / "nothere.fits")
    with pytest.raises(ValueError, match="nope"):
        SpectrumDatasetOnOff.read(tmp_path / "nothere.fits", format="nope")


def test_backscal_keyword_and_bool_quality(make_onoff_dataset, tmp_path):
    dataset = make_onoff_dataset(name="obs", alpha=0.25)
    filename = tmp_path / "obs.fits"
    dataset.write(filename)
    # rewrite the BKG with BACKSCAL as keyword and the PHA with a bool QUALITY column
    with fits.open(tmp_path / "obs_bkg.fits") as hdulist:
        hdu = hdulist["SPECTRUM"]
        cols = [c for c in hdu.columns if c.name != "BACKSCAL"]
        new = fits.BinTableHDU.from_columns(cols, header=hdu.header, name="SPECTRUM")
        new.header["BACKSCAL"] = 8.0
        fits.HDUList([hdulist[0], new, hdulist["EBOUNDS"]]).writeto(tmp_path / "obs_bkg.fits", overwrite=True)
    with fits.open(filename) as hdulist:
        hdu = hdulist["SPECTRUM"]
        quality = np.array([1, 0, 0, 0, 0, 1], bool)
        cols = [c for c in hdu.columns if c.name != "QUALITY"] + [fits.Column("QUALITY", "L", array=quality)]
        new = fits.BinTableHDU.from_columns(cols, header=hdu.header, name="SPECTRUM")
        fits.HDUList([hdulist[0], new] + list(hdulist[2:])).writeto(filename, overwrite=True)
    read = SpectrumDatasetOnOff.read(filename)
    assert_allclose(read.alpha.data, 1 / 8)
    assert np.array_equal(read.mask_safe.data.ravel(), ~quality)


def test_write_without_livetime(make_onoff_dataset, tmp_path):
    dataset = make_onoff_dataset(name="obs")
    del dataset.exposure.meta["livetime"]
    with pytest.raises(ValueError, match="livetime"):
        dataset.write(tmp_path / "obs.fits")


@pytest.mark.requires_data
def test_read_hess(data_path):
    dataset = SpectrumDatasetOnOff.read(data_path / "joint-crab/spectra/hess/pha_obs23523.fits")
    assert dataset.name == "23523"
    # EBOUNDS and ENERG_LO/HI are in keV in these files
    assert_allclose(dataset.energy_axis.edges[[0, -1]].to_value("TeV"), [0.01, 100])
    assert_allclose(dataset.energy_axis_true.edges[[0, -1]].to_value("TeV"), [0.01, 100])
    assert_allclose(dataset.livetime.to_value("s"), 1581.736758410931)
    # bkg BACKSCAL 12, PHA BACKSCAL 1
    assert_allclose(dataset.alpha.data, 1 / 12)
    info = dataset.info_dict()
    assert info["counts"] == 124
    assert info["counts_off"] == 92
    assert SpectrumDatasetOnOff.from_ogip_files(
        data_path / "joint-crab/spectra/hess/pha_obs23523.fits"
    ).name == "23523"


@pytest.mark.requires_data
@pytest.mark.parametrize(
    "path", ["joint-crab/spectra/hess/pha_obs23523.fits", "PKS2155-steady/pks2155-304_steady.fits.gz"]
)
def test_round_trip_real(data_path, tmp_path, path):
    dataset = SpectrumDatasetOnOff.read(data_path / path)
    filename = tmp_path / "obs_1.fits.gz"
    dataset.write(filename)
    assert (tmp_path / "obs_1_arf.fits.gz").exists()
    read = SpectrumDatasetOnOff.read(filename)
    assert_same_dataset(dataset, read)
    if dataset.gti is not None:
        assert len(read.gti) == len(dataset.gti)


@pytest.mark.requires_data
def test_read_gammapy_written(data_path):
    # written by gammapy: BACKSCAL as integer column, REGION HDU
    dataset = SpectrumDatasetOnOff.read(data_path / "datasets/simulations/simulated_spectrum_dataset_PL.fits")
    assert dataset.name == "test_onoff"
    assert_allclose(dataset.alpha.data, 0.2)
    assert dataset.counts.geom.region is not None
    assert dataset.mask_safe.data.all()
