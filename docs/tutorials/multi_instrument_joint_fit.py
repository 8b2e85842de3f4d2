"""Multi instrument joint 3D and 1D analysis — gammalike version of seed 000.

Run: python multi_instrument_joint_fit.py [OUTPUT_DIR] [--naima-fit]
(or set GAMMALIKE_TUTORIAL_OUTPUT). Every figure is saved as PNG into
OUTPUT_DIR (default ./tutorial-output/multi_instrument_joint_fit).

The NaimaSpectralModel is built, evaluated and plotted when naima is installed.
The joint fit with the Naima model (about 3 hours in the reference) runs only
with ``--naima-fit`` or ``GAMMALIKE_TUTORIAL_NAIMA_FIT=1``; by default the
tutorial fits the LogParabola, as the seed does.
"""
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_args = [a for a in sys.argv[1:] if not a.startswith("--")]
NAIMA_FIT = "--naima-fit" in sys.argv or os.environ.get("GAMMALIKE_TUTORIAL_NAIMA_FIT") == "1"
OUTPUT = Path(
    _args[0] if _args
    else os.environ.get("GAMMALIKE_TUTORIAL_OUTPUT", "tutorial-output/multi_instrument_joint_fit")
)
OUTPUT.mkdir(parents=True, exist_ok=True)
os.chdir(OUTPUT)


def savefig(name):
    """Save the current figure as OUTPUT/<name>.png and close it."""
    plt.savefig(f"{name}.png", dpi=100, bbox_inches="tight")
    plt.close("all")
    print(f"saved figure {name}.png")


# Multi instrument joint 3D and 1D analysis
# =========================================
#
# Joint 3D analysis using 3D Fermi datasets, a H.E.S.S. reduced spectrum and
# HAWC and LHAASO flux points. This noteboook is adapted from
# https://docs.gammapy.org/1.0.1/tutorials/analysis-3d/analysis_mwl.html with
# some minor changes.
#
# Context
# -------
# Some science studies require to combine heterogeneous data from various
# instruments to extract physical information. In particular, it is often
# useful to add flux measurements of a source at different energies to an
# analysis to better constrain the wide-band spectral parameters. This can be
# done using a joint fit of heterogeneous datasets.
#
# **Objectives: Constrain the spectral parameters of the gamma-ray emission
# from the Crab nebula between 10 GeV and 1 PeV, using a 3D Fermi dataset, a
# H.E.S.S. reduced spectrum and HAWC and LHAASO flux points.**
#
# Proposed approach
# -----------------
# This tutorial illustrates how to perform a joint modeling and fitting of the
# Crab Nebula spectrum using different datasets. The spectral parameters are
# optimized by combining a 3D analysis of Fermi-LAT data, a ON/OFF spectral
# analysis of HESS data, and flux points from HAWC and LHAASO.
#
# In this tutorial we are going to use pre-made datasets. We prepared maps of
# the Crab region as seen by Fermi-LAT using the same event selection than the
# 3FHL catalog (7 years of data with energy from 10 GeV to 2 TeV). For the HESS
# ON/OFF analysis we used two observations from the first public data release
# with a significant signal from energy of about 600 GeV to 10 TeV. These
# observations have an offset of 0.5° and a zenith angle of 45-48°. The HAWC
# flux points data are taken from a recent analysis based on 2.5 years of data
# with energy between 300 Gev and 300 TeV. For the very high energy part we use
# recent data (arXiv:2111.06545) from LHAASO extending over 1 PeV.
#
# The setup
# ---------
import numpy as np  # noqa: E402
from astropy import units as u  # noqa: E402
from astropy.constants import c  # noqa: E402
from gammalike.datasets import Datasets  # noqa: E402
from gammalike.estimators import FluxPoints, FluxPointsEstimator  # noqa: E402,F401
from gammalike.maps import MapAxis  # noqa: E402
from gammalike.modeling import Fit  # noqa: E402
from gammalike.modeling.models import (  # noqa: E402
    Models,
    SkyModel,
    create_crab_spectral_model,
    NaimaSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
    PointSpatialModel,
    GaussianSpatialModel,
    DiskSpatialModel,
)
from regions import CircleSkyRegion  # noqa: E402

try:
    from naima.models import (
        ExponentialCutoffBrokenPowerLaw,
        InverseCompton,
        Synchrotron,
    )
    HAS_NAIMA = True
except ImportError:  # naima is an optional extra: skip the Naima parts
    HAS_NAIMA = False
    print("naima is not installed: the NaimaSpectralModel parts are skipped")

# Datasets
# --------
# The `datasets` object contains each dataset previously written to disk
# datasets.yaml, models.yaml, and several data files specific to each dataset.
# The `datasets` can be read from these files.
path = Path("$GAMMAPY_DATA/crab-3datasets")  # seed: Path("crab-3datasets") for local execution

filename = path / "crab_10GeV_100TeV_datasets.yaml"

datasets = Datasets.read(filename)

print(datasets)

# The statistics
# --------------
# The total cost function minimized by the fit is
#     C = -2 ln(L_Fermi) - 2 ln(L_HESS) + chi2_HAWC + chi2_LHAASO.
#
# - For the 3D Fermi dataset where the mean of the background is supposed to be
#   known the so-called *cash* statistics is used where
#   -2 ln(L_Fermi) = 2 (mu_on - n_on ln mu_on) with mu_on = mu_sig + mu_bkg the
#   predicted number of counts by the models and n_on the measured number. The
#   statistics is calculated per pixel and summed in the end.
# - For the 1D HESS dataset where the background is measured from the
#   Off-regions we use the *WStat*
#   -2 ln(L_HESS) = 2 (mu_sig + (1 + 1/alpha) mu_bkg - n_on ln(mu_sig + mu_bkg)
#                      - n_off ln(mu_bkg / alpha)),
#   where in the most general case, where mu_sig and mu_bkg are free, the
#   minimum is at mu_sig = n_on - alpha n_off, mu_bkg = alpha n_off.
# - For the `FluxPointsDatasets` the usual chi2 statistics is used.
#
# Why are we allowed to add all those different statistics in the combined
# likelihood?

# closer look at the individual datasets
# HINT: the names of the datasets can be found with datasets.names
print(datasets['HAWC'])

datasets['HESS'].peek()
savefig("multi_instrument_joint_fit_01_hess_peek")

datasets['Fermi-LAT'].peek()
savefig("multi_instrument_joint_fit_02_fermi_peek")

# Define the models
# -----------------
# In order to decribe the Crab's emission we need to define a `SkyModel` with a
# spectral component for the 1D datasets and an additional spatial component
# for the Fermi 3D dataset.
#
# Choose appropriate models (at the block indicated with `**------**`) and run
# the fit.

### Start with the spectral models ###

# Stuff for the Naima Spectral Model
# ----------------------------------
if HAS_NAIMA:
    ECBPL = ExponentialCutoffBrokenPowerLaw(
        amplitude=5.5e+35 / u.eV,
        e_0=1 * u.TeV,
        e_break=2.5 * u.TeV,
        alpha_1=2.2e+00,
        alpha_2=3.7,
        e_cutoff=3.497e+01 * u.PeV,
        beta=2.017e+00,
    )

    SYN = Synchrotron(ECBPL, B=125 * u.uG, Eemax=50 * u.PeV, Eemin=0.1 * u.GeV)

    # Compute photon density spectrum from synchrotron emission assuming R=2.1 pc
    Rpwn = 2.1 * u.pc
    Esy = np.logspace(-7, 9, 100) * u.eV
    Lsy = SYN.flux(Esy, distance=0 * u.cm)  # use distance 0 to get luminosity
    phn_sy = Lsy / (4 * np.pi * Rpwn ** 2 * c) * 2.24

    IC = InverseCompton(
        ECBPL,
        seed_photon_fields=[
            "CMB",
            ["SSC", Esy, phn_sy],
            ["FIR", 2.5 * u.K, 0.15 * u.eV / u.cm ** 3],
        ],
        Eemax=50 * u.PeV,
        Eemin=0.1 * u.GeV,
    )
    # ----------------------------------

    spectral_model_naima = NaimaSpectralModel(
        radiative_model=IC, distance=2 * u.kpc,
        nested_models={'SSC': {'B': SYN.B, 'radius': Rpwn}},
    )
spectral_model_LP = create_crab_spectral_model('magic_lp')
spectral_model_PL = create_crab_spectral_model('hess_pl')
spectral_model_ECPL = create_crab_spectral_model('hess_ecpl')
spectral_model_SBPL = SmoothBrokenPowerLawSpectralModel(amplitude='1.5879e-10 cm-2 s-1 TeV-1',
                                                        reference='1 TeV',
                                                        index1=1.74,
                                                        index2=2.84,
                                                        ebreak=0.39*u.TeV,
                                                        beta=1)

### Now the spatial models ###
spatial_model_point = PointSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", frame='galactic')
spatial_model_gauss = GaussianSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", sigma='1.9e-02 deg', frame='galactic')
spatial_model_disk = DiskSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", r0='2.3e-02 deg', frame='galactic')
# (the seed creates the disk with GaussianSpatialModel(..., r0=...), a typo:
# r0 is a DiskSpatialModel parameter)

### Define the 3D SkyModel ###
#**---------------------------------------**#
#   Change to the best suited models here   #
#   (The Naima model takes long for fitting ~3h: run with --naima-fit)
crab_model = SkyModel(
    spatial_model=spatial_model_point,
    spectral_model=spectral_model_naima if (NAIMA_FIT and HAS_NAIMA) else spectral_model_LP,
    name='Crab')
#**---------------------------------------**#

# freeze all spatial parameters
crab_model.spatial_model.parameters.freeze_all()

### Add the models to the datasets
models = Models.read(path / "Fermi-LAT-3FHL_models.yaml")  # the bkg model for Fermi
models.append(crab_model)
datasets.models = models

# seed: kwargs={'energy_bounds':[0.1,100]*u.TeV, 'energy_power':2}
kwargs = {'energy_bounds': [0.1, 100]*u.TeV, 'energy_power': 2}
plt.figure(figsize=(8, 6))
if HAS_NAIMA:
    spectral_model_naima.plot(label='Naima', **kwargs)
spectral_model_LP.plot(label='LogParabola', **kwargs)
spectral_model_PL.plot(label='PowerLaw', **kwargs)
spectral_model_ECPL.plot(label='Exp Cutoff Pl', **kwargs)
spectral_model_SBPL.plot(label='Smooth broken Pl', **kwargs)

plt.legend()
savefig("multi_instrument_joint_fit_03_models")

# Joint analysis
# --------------
# We run the fit on the `Datasets` object that include a dataset for each
# instrument
fit_joint = Fit()
results_joint = fit_joint.run(datasets=datasets)
print(results_joint)
# Reference: total stat : -12644.42 (LogParabola)

# Let's display only the parameters of the Crab spectral model
crab_spec = datasets[0].models["Crab"].spectral_model
print(crab_spec)

# We can compute flux points for Fermi-LAT and HESS datasets in order plot them
# together with the HAWC flux point.

# compute Fermi-LAT and HESS flux points
energy_edges = MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5).edges

flux_points_fermi = FluxPointsEstimator(
    energy_edges=energy_edges,
    source="Crab",
).run([datasets["Fermi-LAT"]])

energy_edges = MapAxis.from_bounds(1, 15, nbin=6, interp="log", unit="TeV").edges

flux_points_hess = FluxPointsEstimator(
    energy_edges=energy_edges, source="Crab", selection_optional=["ul"]
).run([datasets["HESS"]])

# set HAWC and LHAASO flux points
flux_points_hawc = datasets['HAWC'].data
flux_points_LHAASO = datasets['LHAASO'].data

print(flux_points_fermi.to_table(sed_type="dnde", formatted=True))
print(flux_points_hess.to_table(sed_type="dnde", formatted=True))

# Now, Let's plot the Crab spectrum fitted and the flux points of each
# instrument.

# display spectrum and flux points
fig, ax = plt.subplots(figsize=(8, 6))

energy_bounds = [0.01, 3e3] * u.TeV
sed_type = "e2dnde"

crab_spec.plot(ax=ax, energy_bounds=energy_bounds, sed_type=sed_type, label="Model")
crab_spec.plot_error(ax=ax, energy_bounds=energy_bounds, sed_type=sed_type)
if isinstance(crab_spec, NaimaSpectralModel):
    # Plot the separate contributions from each seed photon field
    for seed, ls in zip(crab_spec.radiative_model.seed_photon_fields.keys(), ['-', '--', ':']):
        if seed == 'SSC':
            B_value = crab_spec.B.value
            model = NaimaSpectralModel(radiative_model=IC, seed=seed, distance=2*u.kpc,
                                       nested_models={'SSC': {'B': B_value*u.uG, 'radius': Rpwn}})
        else:
            model = NaimaSpectralModel(radiative_model=IC, seed=seed, distance=2 * u.kpc)
        model.plot(label="IC ({})".format(seed), ls=ls, color="gray", alpha=0.5, ax=ax,
                   energy_bounds=energy_bounds, sed_type=sed_type)

flux_points_fermi.plot(ax=ax, sed_type=sed_type, label="Fermi-LAT")
flux_points_hess.plot(ax=ax, sed_type=sed_type, label="HESS")
flux_points_hawc.plot(ax=ax, sed_type=sed_type, label="HAWC")
flux_points_LHAASO.plot(ax=ax, sed_type=sed_type, label="LHAASO")

# the SED axes carry astropy units (TeV, erg cm-2 s-1), so Quantity limits work
ax.set_xlim(energy_bounds)
ax.legend()
savefig("multi_instrument_joint_fit_04_sed")

# Inpsect the residuals
# ---------------------

# Fermi
region = CircleSkyRegion(
    center=crab_model.spatial_model.position, radius=0.5 * u.deg
)
datasets['Fermi-LAT'].plot_residuals(
    kwargs_spatial=dict(method="diff/sqrt(model)", vmin=-2, vmax=2),
    kwargs_spectral=dict(method="diff/sqrt(model)", region=region),
)
savefig("multi_instrument_joint_fit_05_fermi_residuals")

# Hess
plt.figure()
datasets['HESS'].plot_residuals_spectral(method="diff/sqrt(model)")
savefig("multi_instrument_joint_fit_06_hess_residuals")

# HAWC
plt.figure()
datasets['HAWC'].plot_residuals(method="diff/model")
savefig("multi_instrument_joint_fit_07_hawc_residuals")

# LHAASO
plt.figure()
datasets['LHAASO'].plot_residuals(method="diff/model")
plt.ylim(-2, 2)
savefig("multi_instrument_joint_fit_08_lhaaso_residuals")

# Addition
# --------
# If you want you can try to quantify the goodness of fit (by looking at chi2
# values, residual significance distributions, or likelihood ratios).
for d in datasets:
    print(f"{d.name:10s} stat = {d.stat_sum():.2f}")
print(f"total stat = {datasets.stat_sum():.2f}")
