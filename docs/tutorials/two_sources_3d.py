"""Analysis of two sources in the same field of view - 3D analysis.

gammalike version of seed 002.  The seed analyses MAGIC observations of
1ES1215+303 / 1ES1218+304, which are not public; this script runs the same
steps on the CTA 1DC Galactic-centre field with two point sources:
Sgr A* (l=359.944, b=-0.044, "src1") and G0.9+0.1 (l=0.872, b=0.076, "src2"),
runs 110380, 111140, 111159.  Where the MAGIC-specific steps do not apply
(the Background3D alignment bugfix, the 1D results read from disk) the script
says so and does the nearest equivalent.

Run: python two_sources_3d.py [OUTPUT_DIR]   (or set GAMMALIKE_TUTORIAL_OUTPUT)
Every figure is saved as PNG into OUTPUT_DIR (default ./tutorial-output/two_sources_3d).
"""
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUTPUT = Path(
    sys.argv[1] if len(sys.argv) > 1
    else os.environ.get("GAMMALIKE_TUTORIAL_OUTPUT", "tutorial-output/two_sources_3d")
)
OUTPUT.mkdir(parents=True, exist_ok=True)
os.chdir(OUTPUT)


def savefig(name):
    """Save the current figure as OUTPUT/<name>.png and close it."""
    plt.savefig(f"{name}.png", dpi=100, bbox_inches="tight")
    plt.close("all")
    print(f"saved figure {name}.png")


# 5. Analysis of two sources in the same field of view - 3D analysis
# ==================================================================
# Author of the seed notebook: Marcel Strzys
#
# 5.1. Context
# ------------
# We will repeat the same analysis as in the previous notebook, but using a
# three-dimensional analysis. This type of analysis uses the spatial
# information of the events in addition to their energy.

# - basic imports (numpy, astropy, regions, matplotlib)
import logging  # noqa: E402
import warnings  # noqa: E402

from astropy.coordinates import SkyCoord  # noqa: E402
import astropy.units as u  # noqa: E402
from matplotlib.offsetbox import AnchoredText  # noqa: E402
import numpy as np  # noqa: E402
from regions import PointSkyRegion, CircleSkyRegion  # noqa: E402
from scipy.stats import norm  # noqa: E402

# - Gammapy's imports
from gammalike.data import DataStore  # noqa: E402
from gammalike.datasets import Datasets  # noqa: E402
from gammalike.datasets import MapDataset  # noqa: E402
from gammalike.estimators import ExcessMapEstimator  # noqa: E402
from gammalike.estimators import FluxPointsEstimator, FluxPoints  # noqa: E402,F401
from gammalike.estimators import TSMapEstimator  # noqa: E402
from gammalike.makers import FoVBackgroundMaker  # noqa: E402
from gammalike.makers import MapDatasetMaker  # noqa: E402
from gammalike.makers import SafeMaskMaker  # noqa: E402
from gammalike.maps import MapAxis  # noqa: E402
from gammalike.maps import WcsGeom  # noqa: E402
from gammalike.modeling import Fit  # noqa: E402
from gammalike.modeling.models import (  # noqa: E402
    PowerLawSpectralModel,
    FoVBackgroundModel,
    Models,
    PiecewiseNormSpectralModel,
    PointSpatialModel,
    SkyModel,
)


# The seed imports plot_gammapy_sed from its own folder (plot_utils); these
# are the few lines it needs: model + error band + flux points in E^2 dN/dE.
def plot_gammapy_sed(ax, spectral_model, flux_points, color, label, sed_type="e2dnde"):
    """Plot a spectral model with its error band and flux points on ``ax``."""
    energy = flux_points.energy_min[0], flux_points.energy_max[-1]
    energy_bounds = u.Quantity([energy[0].to_value("TeV"), energy[1].to_value("TeV")], "TeV")
    spectral_model.plot(ax=ax, energy_bounds=energy_bounds, sed_type=sed_type, color=color, label=label)
    spectral_model.plot_error(ax=ax, energy_bounds=energy_bounds, sed_type=sed_type, facecolor=color, alpha=0.3)
    flux_points.plot(ax=ax, sed_type=sed_type, color=color)
    return ax


# - setting up logging and ignoring warnings
logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
warnings.filterwarnings("ignore")

# 4.2. DL3 files for the 3D analysis
# ----------------------------------
# Let us proceed now with the data reduction. As we said, we are interested in
# preserving the spatial information of the events, which we loose in a
# one-dimensional analysis.

# data store (seed: the MAGIC full-enclosure files of 1ES1218+304)
data_store = DataStore.from_dir("$GAMMAPY_DATA/cta-1dc/index/gps/")
observations = data_store.get_observations(
    [110380, 111140, 111159], required_irf=["aeff", "edisp", "psf", "bkg"]
)
# The seed replaces each Background3D by one with
# fov_alignment=FoVAlignment.REVERSE_LON_RADEC (a MAGIC-file bugfix, gammapy
# issue 3510); the CTA 1DC background needs no such fix.

# Let us take a look at the observations we loaded, especially at the IRF
# provided for this type of analysis.
observations[0].peek()
savefig("two_sources_3d_01_observation_peek")

# As for the previous notebook, and analysis, we see that the IRF are now
# multi-offset. But we notice that there are two new IRF components: the Point
# Spread Function and the background.
#
# 4.3. Data Reduction
# -------------------
# We now create our data cube and fill it with the events of our observations.

# source coordinates
src1_coordinates = SkyCoord(359.944, -0.044, unit="deg", frame="galactic")  # Sgr A*
src2_coordinates = SkyCoord(0.872, 0.076, unit="deg", frame="galactic")  # G0.9+0.1

# energy axes (seed: 10 GeV - 100 TeV, 20 / 28 bins)
energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=20, name="energy")
energy_true_axis = MapAxis.from_energy_bounds("0.05 TeV", "200 TeV", nbin=28, name="energy_true")

# spatial binning (seed: 2 x 2 deg around the source, AIR projection)
binsz = 0.02
geom = WcsGeom.create(
    skydir=SkyCoord(0.4, 0, unit="deg", frame="galactic"),
    npix=(200, 150),
    binsz=binsz,
    frame="galactic",
    proj="CAR",
    axes=[energy_axis],
)

# As we aim to create a data cube, we will now use a `MapDataset`, instead of
# a `SpectrumDataset` as before. The `MapDatasetMaker` will fill the counts cube
# and will also convert the irf components from camera coordinates into sky
# coordinates. We define in addition a safe mask, which excludes all the
# regions beyond 2.5 deg from the centre of our telescopes (seed: 2 deg for
# MAGIC), as the irfs in that region are insufficiently known.
empty_map_dataset = MapDataset.create(
    geom=geom, energy_axis_true=energy_true_axis, binsz_irf=0.2 * u.deg
)
datasets = Datasets()
maker = MapDatasetMaker(selection=["counts", "background", "psf", "edisp", "exposure"])
maker_safe_mask = SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg)

for obs in observations:
    dataset = maker.run(empty_map_dataset.copy(name=str(obs.obs_id)), obs)
    dataset = maker_safe_mask.run(dataset, obs)
    datasets.append(dataset)

# Let us take a look at the datasets we have created.
datasets[0].peek()
savefig("two_sources_3d_02_dataset_peek")

# We can see the counts, background, excesses (counts - background), and
# exposure as a function of sky coordinates (all the energies are shown).
#
# 4.3.1. Adjusting the background
# The background we embedded in the data should already be a reasonable
# estimation, but we can improve it by further adjusting the background model
# to each data set. This is done by the `FoVBackgroundMaker`, that fits the
# background model to the data, excluding regions around known sources. For
# this we want to exclude emission from sources from the normalisation of the
# background as it may bias the estimate. In both cases we choose a region of
# 0.3 deg around each source.
excl_radius = 0.3 * u.deg
src1_circle = CircleSkyRegion(center=src1_coordinates, radius=excl_radius)
src2_circle = CircleSkyRegion(center=src2_coordinates, radius=excl_radius)
exclusion_regions = [src1_circle, src2_circle]

geom_image = geom.to_image()
exclusion_mask = ~geom_image.region_mask(exclusion_regions)

fov_background_maker = FoVBackgroundMaker(method="fit", exclusion_mask=exclusion_mask)

# Now we loop over the datasets and adjust the background for each of them. For
# each we check the factor by which the background needs to be adjusted. If the
# factor is too far from 1, the dataset is discarded.
datasets_fitted_background = Datasets()

for dataset in datasets:
    dataset = fov_background_maker.run(dataset)
    fit_result = dataset.models.to_parameters_table()
    norm_fit = fit_result[fit_result["name"] == "norm"]["value"][0]
    print(f"dataset {dataset.name}: background norm = {norm_fit:.4f}")
    if (norm_fit > 1.5) or (norm_fit < 0.5):
        logger.warning(
            f"Fit for dataset {dataset.name} exceeds recommended limits. The norm of the fit is {norm_fit}."
        )
        continue
    datasets_fitted_background.append(dataset)

# As we already seen, there are two different analysis approaches: a stacked
# and a joint analysis. For the stacked we combine the observations into a
# single dataset.
# (seed: stack_reduce() without a name; the FoVBackgroundModel below is
# attached by dataset name "stacked", and gammalike gives an unnamed stacked
# dataset a random name, so the name is passed explicitly)
dataset_stacked = datasets_fitted_background.stack_reduce(name="stacked")
print(dataset_stacked)

# Now we can plot the counts, background, and excess (counts - background). It
# gives you a first impression how well the maps are populated and whether a
# potential source is visible in the maps. The maps plotted by gammapy are
# interactive (in a notebook); here each is saved as an image.
smoothing_radius = 0.1 * u.deg
dataset_stacked.counts.smooth(smoothing_radius).plot_interactive(add_cbar=True)
savefig("two_sources_3d_03_counts")
dataset_stacked.exposure.smooth(smoothing_radius).plot_interactive(add_cbar=True)
savefig("two_sources_3d_04_exposure")
dataset_stacked.background.smooth(smoothing_radius).plot_interactive(add_cbar=True)
savefig("two_sources_3d_05_background")
dataset_stacked.excess.smooth(smoothing_radius).plot_interactive(
    stretch="sqrt", add_cbar=True
)
savefig("two_sources_3d_06_excess")

# 4.4 Detection maps
# ------------------
# Now we can quantify the excess in the map using significance estimators.
# Gammapy provides two different approaches an `ExcessMapEstimator`, which
# estimates the Li & Ma significance in a correlation circle, and a
# `TSMapEstimator`, which fits a source model at each position.


# here a quick function to add the sources coordinates to the maps
def plot_sources_coords(ax, wcs):
    """Add sources positions to significance and excess maps"""
    source1_coords = PointSkyRegion(src1_coordinates)
    source1_coords.to_pixel(wcs).plot(
        ax=ax, color="forestgreen", marker="*", ls="", markersize=12, label="Sgr A*",
    )
    source2_coords = PointSkyRegion(src2_coordinates)
    source2_coords.to_pixel(wcs).plot(
        ax=ax, color="dodgerblue", marker="*", ls="", markersize=12, label="G0.9+0.1"
    )
    ax.legend()


# to maximise the significance for a point source,
# the correlation radius should be of the size of the PSF.
# for extended sources try sqrt(psf**2+extension**2), which
# assumes a Gaussian
correlation_radius = 0.07 * u.deg
estimator = ExcessMapEstimator(
    correlation_radius, selection_optional=[], correlate_off=True
)
lima_maps = estimator.run(dataset_stacked)

significance_map = lima_maps["sqrt_ts"]
excess_map = lima_maps["npred_excess"]

# We can plot the excess and significance maps
fig, (ax1, ax2) = plt.subplots(
    figsize=(11, 4), subplot_kw={"projection": lima_maps.geom.wcs}, ncols=2
)
ax1.set_title("Significance map")
significance_map.plot(ax=ax1, vmax=7, add_cbar=True)
plot_sources_coords(ax1, lima_maps.geom.wcs)
ax2.set_title("Excess map")
excess_map.plot(ax=ax2, add_cbar=True)
plot_sources_coords(ax2, excess_map.geom.wcs)
savefig("two_sources_3d_07_significance_excess")

# And we can cleary see that the excesses correspond to the sources position,
# but to check whether the results are robust, it is worth to check the
# significance distribution of the background bins.

# all values of significance
significance_all = lima_maps["sqrt_ts"].data[np.isfinite(lima_maps["sqrt_ts"].data)]

# all values of significance outside exclusion regions, i.e. excluding the regions around the sources
significance_off = lima_maps["sqrt_ts"].data[
    np.logical_and(np.isfinite(lima_maps["sqrt_ts"].data), exclusion_mask.data)
]

bins = np.linspace(
    np.min(significance_all),
    np.max(significance_all),
    num=int((np.max(significance_all) - np.min(significance_all)) * 3),
)

fig, ax = plt.subplots()
ax.hist(significance_all, density=True, alpha=0.5, color="red", label="all bins", bins=bins)
ax.hist(significance_off, density=True, alpha=0.5, color="blue", label="background bins", bins=bins)

# Now, fit the off distribution with a Gaussian
mu, std = norm.fit(significance_off)
x = np.linspace(-8, 8, 50)
p = norm.pdf(x, mu, std)
ax.plot(x, p, lw=2, color="black")
ax.legend()
ax.set_xlabel("Significance")
ax.set_yscale("log")
ax.set_ylim(1e-5, 1)
xmin, xmax = np.min(significance_all), np.max(significance_all)
ax.set_xlim(xmin, 7)

text = r"$\mu$ = {:.2f}" f"\n" r"$\sigma$ = {:.2f}".format(mu, std)
box_prop = dict(boxstyle="Round", facecolor="white", alpha=0.5)
text_prop = dict(fontsize="x-large", bbox=box_prop)
txt = AnchoredText(text, loc=2, transform=ax.transAxes, prop=text_prop, frameon=False)
ax.add_artist(txt)
print(f"Fit results: mu = {mu:.2f}, std = {std:.2f}")
savefig("two_sources_3d_08_significance_distribution")

# Now we are going to use TS estimator, for which we first need to define a
# model for our test source. As we deal here with point sources, we choose a
# point source model.
spatial_model = PointSpatialModel()

# we choose units consistent with the map units here...
spectral_model = PowerLawSpectralModel(amplitude="1e-22 cm-2 s-1 keV-1", index=2)
model = SkyModel(spatial_model=spatial_model, spectral_model=spectral_model)

# (seed: energy_edges=[80, 8000] GeV for MAGIC; the CTA maps start at 100 GeV)
estimator = TSMapEstimator(
    model,
    kernel_width="0.07 deg",
    energy_edges=[0.1, 10] * u.TeV,
)
maps = estimator.run(dataset_stacked)

fig, (ax1, ax2, ax3) = plt.subplots(
    ncols=3,
    figsize=(15, 3),
    subplot_kw={"projection": geom.wcs},
    gridspec_kw={"left": 0.1, "right": 0.98},
)

maps["sqrt_ts"].plot(ax=ax1, vmax=7, add_cbar=True)
ax1.set_title("Significance map")
maps["flux"].plot(ax=ax2, add_cbar=True, stretch="sqrt", vmin=0)
ax2.set_title("Flux map")
maps["niter"].plot(ax=ax3, add_cbar=True)
ax3.set_title("Iteration map")
savefig("two_sources_3d_09_ts_maps")

# Also this procedure clearly detected the two sources. The advantage of this
# method is that it also provides a map in physical meaningful units, the flux
# map.
#
# 4.5 3D spectrum fit
# -------------------
# For the 3d fit we need to define a model for the sources. Each model
# consists of two components, a spatial and a spectral. The spatial component
# in case of the point sources is a PointSpatialModel.
src1_spatial_model = PointSpatialModel(
    lon_0=src1_coordinates.l, lat_0=src1_coordinates.b, frame="galactic"
)
src2_spatial_model = PointSpatialModel(
    lon_0=src2_coordinates.l, lat_0=src2_coordinates.b, frame="galactic"
)

# The seed copies the spectral models of its 1D analysis (read from
# results/*.yaml, not available here); we start from power laws instead.
src1_model_3d = SkyModel(
    spectral_model=PowerLawSpectralModel(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
    spatial_model=src1_spatial_model,
    name="src1",
)
src2_model_3d = SkyModel(
    spectral_model=PowerLawSpectralModel(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
    spatial_model=src2_spatial_model,
    name="src2",
)

# let us check the models now
print(src1_model_3d)
print(src2_model_3d)

# And we now see that also the coordinates have become parameters of the
# model. For the fit to perform better, we can constrain the values of each
# parameter to reasonable ranges.

# we actually freeze the sources coordinates
src1_model_3d.parameters["lon_0"].frozen = True
src1_model_3d.parameters["lat_0"].frozen = True
src2_model_3d.parameters["lon_0"].frozen = True
src2_model_3d.parameters["lat_0"].frozen = True

# We now can define the energy range in which we like to fit the model
# (seed: 0.08 - 20 TeV for MAGIC; 0.2 - 50 TeV here).
energy_mask = dataset_stacked.counts.geom.energy_mask(
    energy_min=0.2 * u.TeV, energy_max=50 * u.TeV
)
dataset_stacked.mask_fit = energy_mask

# 4.5.2. Adjusting the Background model
# In case we fit also the background we need to define a model for it as well.
# For the spectrum, we can either assume that the background is scaled
# correctly across the bins and just apply a norm, or fit a norm per energy
# bin with a PiecewiseNormSpectralModel.
energy_center = dataset_stacked.geoms["geom"].axes["energy"].center
spectral_model_bkg = PiecewiseNormSpectralModel(
    energy=energy_center,
    norms=np.ones(energy_center.shape),
)

bkg_model = FoVBackgroundModel(
    dataset_name="stacked", spectral_model=spectral_model_bkg
)
# The norms of energy bins outside the fit range see no data: Fit leaves
# them where they are (with a warning, and a NaN error) instead of failing
# on their zero Hessian rows.

# Now we define the final model to be fit to the data.
total_model_3d = Models([src1_model_3d, src2_model_3d, bkg_model])
dataset_stacked.models = total_model_3d

# Finally we can run the fit using the minuit minimizer.
fit = Fit(optimize_opts={"tol": 0.01, "strategy": 2, "print_level": 0})
result = fit.run(datasets=dataset_stacked)
minuit_result = result.optimize_result.minuit
print(result)
print(minuit_result)

# Please always check whether the fit finished successfully.
print(total_model_3d.to_parameters_table())
# Expected (issue 4): src1 index 2.4901, amplitude 2.5417e-12;
# src2 index 2.3203, amplitude 9.1347e-13
for name in ("src1", "src2"):
    spec = total_model_3d[name].spectral_model
    print(f"{name}: index = {spec.index.value:.4f} +- {spec.index.error:.4f}, "
          f"amplitude = {spec.amplitude.value:.4e} +- {spec.amplitude.error:.2e}")

# compute flux points
energy_edges = energy_axis.edges[5:13]
flux_points_estimator_src1 = FluxPointsEstimator(
    energy_edges=energy_edges, source="src1", selection_optional="all"
)
flux_points_src1_3d = flux_points_estimator_src1.run(datasets=dataset_stacked)

energy_edges = energy_axis.edges[4:14]
flux_points_estimator_src2 = FluxPointsEstimator(
    energy_edges=energy_edges, source="src2", selection_optional="all"
)
flux_points_src2_3d = flux_points_estimator_src2.run(datasets=dataset_stacked)
print(flux_points_src1_3d.to_table(sed_type="dnde", formatted=True))
print(flux_points_src2_3d.to_table(sed_type="dnde", formatted=True))

# 4.5.3. Checking the fit results
# To check the agreement between the fit model and the data, we should check
# the residuals in the source region.
dataset_stacked.plot_residuals_spatial(method="diff/sqrt(model)", vmin=-0.5, vmax=0.5)
savefig("two_sources_3d_10_residuals_spatial")

# For each source region one can also the data model agreement across the
# different energy bins.
region = CircleSkyRegion(src1_model_3d.position, radius=0.15 * u.deg)
dataset_stacked.plot_residuals(
    kwargs_spatial=dict(method="diff/sqrt(model)", vmin=-1, vmax=1),
    kwargs_spectral=dict(region=region),
)
savefig("two_sources_3d_11_residuals")

# We can further study the spatial structure of the residual in different
# energy bins using the excess map estimator again.
estimator = ExcessMapEstimator(
    correlation_radius="0.05 deg",
    selection_optional=[],
    energy_edges=[0.1, 1, 10] * u.TeV,
)
result = estimator.run(dataset_stacked)
result["sqrt_ts"].plot_grid(
    figsize=(12, 4), cmap="coolwarm", add_cbar=True, vmin=-5, vmax=5, ncols=2
)
savefig("two_sources_3d_12_residual_significance_grid")

# 4.6. Comparison of 1D vs 3D results
# -----------------------------------
# The seed compares with flux points of its 1D analysis (results/*.fits, not
# available here); we show the 3D results of both sources.
fig, ax = plt.subplots()
plot_gammapy_sed(
    ax, total_model_3d["src1"].spectral_model, flux_points_src1_3d, "crimson", "Sgr A*, 3D analysis",
)
plot_gammapy_sed(
    ax, total_model_3d["src2"].spectral_model, flux_points_src2_3d, "dodgerblue", "G0.9+0.1, 3D analysis",
)
ax.legend()
ax.set_xlim([0.2, 50])  # TeV (seed: [60, 2e4] GeV)
savefig("two_sources_3d_13_sed")
