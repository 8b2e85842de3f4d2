"""Writing the products of an `Analysis` into its output folder.

Layout of ``general.outdir``::

    config.yaml                 the configuration that was run
    datasets/datasets.yaml      the datasets (one FITS file per dataset next to it)
    models.yaml                 best-fit models (+ models_covariance.dat)
    fit_result.yaml             fit status, statistic and best-fit parameters
    fit_parameters.ecsv         parameter table (value, error, unit, frozen ...)
    flux_points.fits            flux points ("gadf-sed"), and flux_points.ecsv
    excess_map.fits             excess / significance maps
    light_curve.fits            light curve ("lightcurve" format)

Every file refuses to overwrite an existing one unless ``overwrite=True``.
"""
import logging

import numpy as np
import yaml

from ..utils.io import check_overwrite, write_atomic

__all__ = ["write_products", "fit_result_dict"]

log = logging.getLogger(__name__)


def _float(value):
    value = float(value)
    return value if np.isfinite(value) else None


def fit_result_dict(fit_result, models):
    """Plain dictionary of a fit result: status of both stages and the parameters."""
    optimize = fit_result.optimize_result
    data = {
        "optimize_result": {
            "backend": optimize.backend,
            "method": optimize.method,
            "success": bool(optimize.success),
            "message": str(optimize.message),
            "nfev": int(optimize.nfev),
            "total_stat": _float(optimize.total_stat),
        },
    }
    covariance = fit_result.covariance_result
    if covariance is not None:
        data["covariance_result"] = {
            "backend": covariance.backend,
            "method": covariance.method,
            "success": bool(covariance.success),
            "message": str(covariance.message),
        }
    parameters = []
    for row in models.to_parameters_table():
        parameters.append({
            "model": str(row["model"]),
            "type": str(row["type"]),
            "name": str(row["name"]),
            "value": _float(row["value"]),
            "unit": str(row["unit"]),
            "error": _float(row["error"]),
            "frozen": bool(row["frozen"]),
        })
    data["parameters"] = parameters
    return data


def _write_text(path, text, overwrite):
    with write_atomic(path, overwrite=overwrite) as tmp:
        tmp.write_text(text)


def _write_table(table, path, overwrite, **kwargs):
    with write_atomic(path, overwrite=overwrite) as tmp:
        table.write(tmp, **kwargs)


def write_products(analysis, outdir, overwrite=False):
    """Write everything ``analysis`` holds into ``outdir``; return {product: path}."""
    outdir.mkdir(parents=True, exist_ok=True)
    products = {}
    config_path = outdir / "config.yaml"
    _write_text(config_path, analysis.config.to_yaml(), overwrite)
    products["config"] = config_path

    if analysis.datasets is not None:
        products["datasets"] = analysis.write_datasets(outdir / "datasets" / "datasets.yaml",
                                                       overwrite=overwrite)
    if analysis.models is not None:
        products["models"] = analysis.write_models(outdir / "models.yaml", overwrite=overwrite)
    if analysis.fit_result is not None:
        path = outdir / "fit_result.yaml"
        text = yaml.safe_dump(fit_result_dict(analysis.fit_result, analysis.models), sort_keys=False)
        _write_text(path, text, overwrite)
        products["fit_result"] = path
        path = outdir / "fit_parameters.ecsv"
        _write_table(analysis.models.to_parameters_table(), path, overwrite, format="ascii.ecsv")
        products["fit_parameters"] = path
    if analysis.flux_points is not None:
        flux_points = getattr(analysis.flux_points, "data", analysis.flux_points)
        for suffix in ("fits", "ecsv"):
            path = outdir / f"flux_points.{suffix}"
            check_overwrite(path, overwrite)
            flux_points.write(path, overwrite=overwrite)
            products[f"flux_points_{suffix}"] = path
    if analysis.excess_map is not None:
        path = outdir / "excess_map.fits"
        check_overwrite(path, overwrite)
        analysis.excess_map.write(path, overwrite=overwrite)
        products["excess_map"] = path
    if analysis.light_curve is not None:
        path = outdir / "light_curve.fits"
        check_overwrite(path, overwrite)
        analysis.light_curve.write(path, format="lightcurve", overwrite=overwrite)
        products["light_curve"] = path
    for name, path in products.items():
        log.info(f"Wrote {name}: {path}")
    return products
