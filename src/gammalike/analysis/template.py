"""Template configurations: a filled-in 1D (spectral) and 3D (map) analysis to start from.

``gammalike config --template 1d > config.yaml`` prints them; every field is
present, so the file documents the whole configuration.
"""
from .config import AnalysisConfig

__all__ = ["template_config", "write_template", "TEMPLATES"]

_COMMON = {
    "general": {"log": {"level": "info"}, "outdir": "."},
    "fit": {"fit_range": {"min": "1 TeV", "max": "10 TeV"}},
}

#: Settings of each template on top of the defaults.
TEMPLATES = {
    # the H.E.S.S. DR1 Crab runs, ON/OFF spectrum with reflected regions
    "1d": {
        "observations": {
            "datastore": "$GAMMAPY_DATA/hess-dl3-dr1",
            "obs_cone": {"frame": "icrs", "lon": "83.633 deg", "lat": "22.014 deg", "radius": "5 deg"},
            "required_irf": ["aeff", "edisp"],
        },
        "datasets": {
            "type": "1d",
            "stack": True,
            "geom": {"axes": {"energy": {"min": "0.5 TeV", "max": "30 TeV", "nbins": 15},
                              "energy_true": {"min": "0.1 TeV", "max": "60 TeV", "nbins": 30}}},
            "map_selection": ["counts", "exposure", "edisp"],
            "background": {"method": "reflected", "exclusion": None, "parameters": {}},
            "safe_mask": {"methods": ["aeff-default", "aeff-max"], "parameters": {"aeff_percent": 10}},
            "on_region": {"frame": "icrs", "lon": "83.633 deg", "lat": "22.014 deg", "radius": "0.11 deg"},
            "containment_correction": True,
        },
        "fit": {"fit_range": {"min": "1 TeV", "max": "20 TeV"}},
        "flux_points": {"energy": {"min": "1 TeV", "max": "20 TeV", "nbins": 6}, "source": "crab",
                        "parameters": {"selection_optional": "all"}},
    },
    # the CTA 1DC Galactic-centre runs, one stacked cube with a FoV background
    "3d": {
        "observations": {
            "datastore": "$GAMMAPY_DATA/cta-1dc/index/gps",
            "obs_ids": [110380, 111140, 111159],
        },
        "datasets": {
            "type": "3d",
            "stack": True,
            "geom": {
                "wcs": {"skydir": {"frame": "galactic", "lon": "0 deg", "lat": "0 deg"},
                        "binsize": "0.02 deg", "width": {"width": "8 deg", "height": "6 deg"},
                        "binsize_irf": "0.2 deg"},
                "selection": {"offset_max": "2.5 deg"},
                "axes": {"energy": {"min": "0.1 TeV", "max": "10 TeV", "nbins": 10},
                         "energy_true": {"min": "0.05 TeV", "max": "20 TeV", "nbins": 20}},
            },
            "map_selection": ["counts", "exposure", "background", "psf", "edisp"],
            "background": {"method": "fov_background", "exclusion": None, "parameters": {}},
            "safe_mask": {"methods": ["offset-max"], "parameters": {"offset_max": "2.5 deg"}},
        },
        "fit": {"fit_range": {"min": "0.1 TeV", "max": "10 TeV"}},
        "flux_points": {"energy": {"min": "0.1 TeV", "max": "10 TeV", "nbins": 5}, "source": "source",
                        "parameters": {"selection_optional": "all"}},
        "excess_map": {"correlation_radius": "0.1 deg", "parameters": {}},
    },
}


def template_config(kind="1d"):
    """`AnalysisConfig` of the ``"1d"`` or ``"3d"`` template."""
    if kind not in TEMPLATES:
        raise ValueError(f"unknown template {kind!r}, expected one of {sorted(TEMPLATES)}")
    data = {**_COMMON, **TEMPLATES[kind]}
    return AnalysisConfig(**data)


def write_template(filename, kind="1d", overwrite=False):
    """Write the ``kind`` template configuration to ``filename``."""
    config = template_config(kind)
    config.write(filename, overwrite=overwrite)
    return config
