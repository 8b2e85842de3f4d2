"""Joint modeling, fitting, and serialization — gammalike version of seed 001.

Run: python joint_modeling_serialization.py [OUTPUT_DIR]
(or set GAMMALIKE_TUTORIAL_OUTPUT). Every figure is saved as PNG into OUTPUT_DIR
(default ./tutorial-output/joint_modeling_serialization); the serialized
datasets are written there too.

The seed was written for an older gammapy release.  Where its calls use the
old names, the script uses the current ones and says so in a comment:
``Fit(datasets).run()`` -> ``Fit().run(datasets)``, ``e_edges`` ->
``energy_edges``, ``energy_range`` / ``energy_power=2`` -> ``energy_bounds`` /
``sed_type="e2dnde"``, ``from_ogip_files`` -> ``read``; the HAWC flux points
live in ``$GAMMAPY_DATA/hawc/crab_flux`` in the data folder.
"""
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUTPUT = Path(
    sys.argv[1] if len(sys.argv) > 1
    else os.environ.get("GAMMALIKE_TUTORIAL_OUTPUT", "tutorial-output/joint_modeling_serialization")
)
OUTPUT.mkdir(parents=True, exist_ok=True)
os.chdir(OUTPUT)


def savefig(name):
    """Save the current figure as OUTPUT/<name>.png and close it."""
    plt.savefig(f"{name}.png", dpi=100, bbox_inches="tight")
    plt.close("all")
    print(f"saved figure {name}.png")


# Joint modeling, fitting, and serialization
# ==========================================
#
# Context
# -------
# Some science studies require to combine heterogeneous data from various
# instruments to extract physical informations. In particular, it is often
# useful to add flux measurements of a source at different energies to an
# analysis to better constrain the wide-band spectral parameters. This can be
# done using a joint fit of heterogeneous datasets.
#
# Objectives: Constrain the spectral parameters of the gamma-ray emission from
# the Crab nebula between 10 GeV and 100 TeV, using a 3D Fermi dataset, a
# H.E.S.S. reduced spectrum and HAWC flux points.
#
# Proposed approach
# -----------------
# This tutorial illustrates how to perfom a joint modeling and fitting of the
# Crab Nebula spectrum using different datasets. The spectral parameters are
# optimized by combining a 3D analysis of Fermi-LAT data, a ON/OFF spectral
# analysis of HESS data, and flux points from HAWC.
#
# In this tutorial we are going to use pre-made datasets. We prepared maps of
# the Crab region as seen by Fermi-LAT using the same event selection than the
# 3FHL catalog (7 years of data with energy from 10 GeV to 2 TeV). For the HESS
# ON/OFF analysis we used two observations from the first public data release
# with a significant signal from energy of about 600 GeV to 10 TeV. These
# observations have an offset of 0.5° and a zenith angle of 45-48°. The HAWC
# flux points data are taken from a recent analysis based on 2.5 years of data
# with energy between 300 Gev and 300 TeV.
#
# The setup
# ---------
from astropy import units as u  # noqa: E402
from gammalike.modeling import Fit  # noqa: E402
from gammalike.datasets import Datasets, FluxPointsDataset, SpectrumDatasetOnOff  # noqa: E402
from gammalike.estimators import FluxPoints, FluxPointsEstimator  # noqa: E402
from gammalike.maps import MapAxis  # noqa: E402

# Data and models files
# ---------------------
# The datasets serialization produce YAML files listing the datasets and
# models. In the following cells we show an example containning only the
# Fermi-LAT dataset and the Crab model (Fermi-LAT-3FHL_datasets.yaml and
# Fermi-LAT-3FHL_models.yaml in $GAMMAPY_DATA/fermi-3fhl-crab).
#
# We used as model a point source with a log-parabola spectrum. The initial
# parameters were taken from the latest Fermi-LAT catalog 4FGL, then we have
# re-optimized the spectral parameters for our dataset in the 10 GeV - 2 TeV
# energy range (fixing the source position).
#
# Reading different datasets
# --------------------------
# Fermi-LAT 3FHL: map dataset for 3D analysis
#
# For now we let's use the datasets serialization only to read the 3D
# MapDataset associated to Fermi-LAT 3FHL data and models.
path = Path("$GAMMAPY_DATA/fermi-3fhl-crab")
filedata = "Fermi-LAT-3FHL_datasets.yaml"
filemodel = "Fermi-LAT-3FHL_models.yaml"
datasets = Datasets.read(path, filedata=filedata, filemodel=filemodel)
dataset_fermi = datasets[0]

print(datasets[0].models)

# We get the Crab model in order to share it with the other datasets
crab_model = dataset_fermi.models["Crab Nebula"]
crab_spec = crab_model.spectral_model
print(crab_spec)

# HESS-DL3: 1D ON/OFF dataset for spectral fitting
#
# The ON/OFF datasets can be read from PHA files following the OGIP standards.
# We read the PHA files from each observation, and compute a stacked dataset
# for simplicity. Then the Crab spectral model previously defined is added to
# the dataset.
datasets = []

for obs_id in [23523, 23526]:
    dataset = SpectrumDatasetOnOff.from_ogip_files(
        f"$GAMMAPY_DATA/joint-crab/spectra/hess/pha_obs{obs_id}.fits"
    )
    datasets.append(dataset)

dataset_hess = Datasets(datasets).stack_reduce(name="HESS")
dataset_hess.models = crab_model

# HAWC: 1D dataset for flux point fitting
#
# The HAWC flux point are taken from https://arxiv.org/pdf/1905.12518.pdf. Then
# these flux points are read from a pre-made FITS file and passed to a
# FluxPointsDataset together with the source spectral model.

# read flux points from https://arxiv.org/pdf/1905.12518.pdf
# (seed: "$GAMMAPY_DATA/hawc_crab/HAWC19_flux_points.fits"; the data folder
# keeps the file under hawc/crab_flux)
filename = "$GAMMAPY_DATA/hawc/crab_flux/HAWC19_flux_points.fits"
flux_points_hawc = FluxPoints.read(filename)
dataset_hawc = FluxPointsDataset(crab_model, flux_points_hawc, name="HAWC")

# Datasets serialization
# ----------------------
# The datasets object contains each dataset previously defined. It can be saved
# on disk as datasets.yaml, models.yaml, and several data files specific to each
# dataset. Then the datasets can be rebuild later from these files.
datasets = Datasets([dataset_fermi, dataset_hess, dataset_hawc])
path = Path("crab-3datasets")
path.mkdir(exist_ok=True)

datasets.write(path=path, prefix="crab_10GeV_100TeV", overwrite=True)
filedata = "crab_10GeV_100TeV_datasets.yaml"
filemodel = "crab_10GeV_100TeV_models.yaml"
datasets = Datasets.read(path, filedata=filedata, filemodel=filemodel)

print(datasets)

print(datasets["HESS"].models)

# Joint analysis
# --------------
# We run the fit on the Datasets object that include a dataset for each
# instrument.  (seed: ``fit_joint = Fit(datasets); results_joint = fit_joint.run()``,
# the API of the gammapy release it was written for)
t0 = time.time()
fit_joint = Fit()
results_joint = fit_joint.run(datasets=datasets)
print(results_joint)
print(results_joint.parameters.to_table())
print(f"Wall time: {time.time() - t0:.2f} s")
# Reference (old gammapy release): total stat : -12696.13; the current
# reference value on these files is -12697.23.

# Let's display only the parameters of the Crab spectral model
crab_spec = datasets[0].models["Crab Nebula"].spectral_model
print(crab_spec)

# We can compute flux points for Fermi-LAT and HESS datasets in order plot them
# together with the HAWC flux point.
print(dataset_fermi.counts.geom.axes[0])

# compute Fermi-LAT and HESS flux points  (seed keyword ``e_edges`` -> ``energy_edges``)
e_edges = MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5).edges

flux_points_fermi = FluxPointsEstimator(
    energy_edges=e_edges, source="Crab Nebula"
).run([datasets["Fermi-LAT"]])

e_edges = MapAxis.from_bounds(1, 15, nbin=6, interp="log", unit="TeV").edges
flux_points_hess = FluxPointsEstimator(
    energy_edges=e_edges, source="Crab Nebula"
).run([datasets["HESS"]])

print(flux_points_fermi.to_table(sed_type="dnde", formatted=True))
print(flux_points_hess.to_table(sed_type="dnde", formatted=True))

# Now, Let's plot the Crab spectrum fitted and the flux points of each
# instrument.  (seed: ``energy_range=..., energy_power=2`` -> ``energy_bounds=...,
# sed_type="e2dnde"``)

# display spectrum and flux points
energy_range = [0.01, 120] * u.TeV
plt.figure(figsize=(8, 6))
ax = crab_spec.plot(energy_bounds=energy_range, sed_type="e2dnde", label="Model")
crab_spec.plot_error(ax=ax, energy_bounds=energy_range, sed_type="e2dnde")
flux_points_fermi.plot(ax=ax, sed_type="e2dnde", label="Fermi-LAT")
flux_points_hess.plot(ax=ax, sed_type="e2dnde", label="HESS")
flux_points_hawc.plot(ax=ax, sed_type="e2dnde", label="HAWC")
plt.legend()
savefig("joint_modeling_serialization_01_sed")
