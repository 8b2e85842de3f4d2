"""One self-contained HTML report of an analysis: configuration, data, fit, SED, residuals, light curve.

`write_report` takes the objects an analysis produced (any of them may be
missing) and writes a single HTML file: CSS inline, every figure embedded as
a base64 PNG (``<img src="data:image/png;base64,...">``), no scripts and no
external resources, so the file can be mailed or archived as it is.
`render_report` returns the same HTML as a string and
`write_analysis_report` fills the arguments from an
`~gammalike.analysis.Analysis`.

A figure that cannot be drawn (an unusual dataset, a model without a
covariance) does not stop the report: the failure is logged and noted in its
section.
"""
import datetime
import html
import logging

import numpy as np
import yaml
from astropy import units as u
from astropy.table import Table

from ..utils.io import write_atomic
from ..utils.paths import make_path
from . import report_figures as figures

__all__ = ["write_report", "render_report", "write_analysis_report"]

log = logging.getLogger(__name__)

#: At most this many 1D datasets get their own counts / residual figures.
MAX_DATASET_FIGURES = 8

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.4; }
header { background: #23395d; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 1.6em; }
header p { margin: 0; opacity: 0.85; font-size: 0.9em; }
nav { padding: 8px 32px; background: #e8edf4; font-size: 0.9em; }
nav a { margin-right: 14px; color: #23395d; text-decoration: none; }
main { padding: 8px 32px 40px 32px; max-width: 1400px; }
section { margin-top: 26px; }
h2 { border-bottom: 2px solid #23395d; padding-bottom: 3px; color: #23395d; }
h3 { color: #333; margin-bottom: 6px; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0; background: white; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #e8edf4; }
td.text, th.text { text-align: left; }
tr.frozen td { color: #888; }
tr.bad td { background: #fde2e2; }
pre { background: #f0f0f0; padding: 10px; overflow-x: auto; font-size: 0.82em; max-height: 500px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; background: white; border: 1px solid #ddd; padding: 6px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85em; color: #444; margin-top: 4px; max-width: 700px; }
.ok { color: #1a7f37; font-weight: bold; }
.fail { color: #c62828; font-weight: bold; }
.note { color: #8a6d00; font-size: 0.9em; }
footer { padding: 12px 32px; font-size: 0.8em; color: #666; }
"""


# ----------------------------------------------------------------------------- small HTML pieces
def _esc(value):
    return html.escape(str(value), quote=True)


def _fmt(value, digits=4):
    """Short text of a table cell (numbers with ``digits`` significant digits)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "–" if np.isnan(value) else str(value)
        return f"{value:.{digits}g}"
    if isinstance(value, u.Quantity) and value.isscalar:
        return f"{_fmt(value.value, digits)} {value.unit.to_string()}".strip()
    return str(value)


def _html_table(table, max_rows=200, row_classes=None, numeric=()):
    """HTML of an astropy `Table` (numbers right-aligned, text left-aligned).

    A column's ``format`` (e.g. ".5g") is used for its numbers; ``numeric``
    names text columns holding formatted numbers (right-aligned).
    """
    names = table.colnames
    text_cols = {name for name in names if table[name].dtype.kind in "USO" and name not in numeric}
    head = "".join(
        f'<th class="text">{_esc(_column_title(table, n))}</th>' if n in text_cols
        else f"<th>{_esc(_column_title(table, n))}</th>" for n in names
    )
    rows = []
    for i, row in enumerate(table[:max_rows]):
        cells = []
        for name in names:
            value = row[name]
            cls = ' class="text"' if name in text_cols else ""
            fmt = table[name].info.format
            if np.ndim(value) > 0:
                value = ", ".join(_fmt(v) for v in np.ravel(value))
            elif fmt and isinstance(value, (float, np.floating)) and np.isfinite(value):
                value = format(value, fmt.lstrip("{:").rstrip("}"))
            cells.append(f"<td{cls}>{_esc(_fmt(value))}</td>")
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = ""
    if len(table) > max_rows:
        more = f'<p class="note">{len(table) - max_rows} more rows not shown.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _column_title(table, name):
    unit = table[name].unit
    if unit is not None and str(unit) not in ("", "dimensionless"):
        return f"{name} [{unit}]"
    return name


def _dict_table(mapping):
    rows = "".join(
        f'<tr><th class="text">{_esc(k)}</th><td class="text">{_esc(_fmt(v))}</td></tr>'
        for k, v in mapping.items()
    )
    return f"<table><tbody>{rows}</tbody></table>"


class _Figures:
    """Collects the embedded figures of the report (and counts them)."""

    def __init__(self):
        self.count = 0

    def html(self, fig, caption, alt=None):
        if fig is None:
            return ""
        data = figures.figure_to_base64(fig)
        self.count += 1
        alt = alt or caption
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
                f"<figcaption>{_esc(caption)}</figcaption></figure>")

    def safe(self, what, make, caption):
        """Figure HTML from ``make()``, or a note if drawing it failed."""
        try:
            fig = make()
        except Exception as exc:  # noqa: BLE001 - a failed figure must not lose the report
            log.warning(f"report: could not draw {what}: {exc}")
            return f'<p class="note">Could not draw {_esc(what)}: {_esc(exc)}</p>'
        return self.html(fig, caption)


def _section(anchor, title, body):
    return f'<section id="{anchor}"><h2>{_esc(title)}</h2>\n{body}\n</section>'


# ----------------------------------------------------------------------------- inputs
def _config_text(config):
    if config is None:
        return None
    if hasattr(config, "to_yaml"):
        return config.to_yaml()
    if isinstance(config, dict):
        return yaml.safe_dump(config, sort_keys=False)
    return str(config)


def _observation_table(observations):
    """Table of the observations: a `Table` as given, else one row per `Observation`."""
    if observations is None or isinstance(observations, Table):
        return observations
    rows = []
    for obs in observations:
        row = {"OBS_ID": str(getattr(obs, "obs_id", ""))}
        try:
            pointing = obs.get_pointing_icrs()
            row["RA_PNT"] = float(pointing.ra.deg)
            row["DEC_PNT"] = float(pointing.dec.deg)
        except Exception:  # noqa: BLE001 - optional column
            pass
        try:
            row["TSTART"] = obs.tstart.utc.isot
        except Exception:  # noqa: BLE001 - optional column
            pass
        try:
            row["LIVETIME"] = float(obs.observation_live_time_duration.to_value("s"))
        except Exception:  # noqa: BLE001 - optional column
            pass
        rows.append(row)
    if not rows:
        return Table()
    names = [n for n in ("OBS_ID", "TSTART", "RA_PNT", "DEC_PNT", "LIVETIME") if n in rows[0]]
    table = Table(rows=[[r.get(n) for n in names] for r in rows], names=names)
    for name, unit in (("RA_PNT", "deg"), ("DEC_PNT", "deg"), ("LIVETIME", "s")):
        if name in table.colnames:
            table[name].unit = unit
    return table


def _dataset_list(datasets):
    if datasets is None:
        return []
    if hasattr(datasets, "stat_sum") and not hasattr(datasets, "__iter__"):
        return [datasets]
    if hasattr(datasets, "counts"):
        return [datasets]
    return list(datasets)


def _models_of(datasets):
    """The models of a list of datasets, each once (by name), in order."""
    seen = {}
    for dataset in datasets:
        for model in getattr(dataset, "models", None) or []:
            seen.setdefault(model.name, model)
    if not seen:
        return None
    from ..modeling.models import Models

    return Models(list(seen.values()))


def _is_map_dataset(dataset):
    geom = getattr(getattr(dataset, "counts", None), "geom", None)
    return geom is not None and hasattr(geom, "wcs") and type(geom).__name__ == "WcsGeom"


def _is_spectrum_dataset(dataset):
    return hasattr(dataset, "plot_counts") and hasattr(dataset, "plot_excess")


def _sum(m, mask=None):
    if m is None:
        return np.nan
    data = np.asarray(m.data, dtype=float)
    if mask is not None:
        data = data * np.asarray(mask.data, dtype=bool)
    return float(np.nansum(data))


def _datasets_table(datasets):
    rows = []
    for dataset in datasets:
        mask = getattr(dataset, "mask_safe", None)
        counts = _sum(getattr(dataset, "counts", None), mask)
        try:
            background = _sum(dataset.npred_background(), mask)
        except Exception:  # noqa: BLE001 - datasets without a background
            background = np.nan
        livetime = np.nan
        gti = getattr(dataset, "gti", None)
        if gti is not None:
            try:
                livetime = float(np.sum(gti.time_sum.to_value("h")))
            except Exception:  # noqa: BLE001
                pass
        energy = ""
        try:
            axis = dataset.counts.geom.axes["energy"]
            safe = np.ones(axis.nbin, dtype=bool)
            if mask is not None:
                data = np.asarray(mask.data, dtype=bool)
                safe = data.reshape(data.shape[0], -1).any(axis=1)
            if safe.any():
                edges = axis.edges.to_value("TeV")
                idx = np.flatnonzero(safe)
                energy = f"{edges[idx[0]]:.3g} – {edges[idx[-1] + 1]:.3g}"
        except Exception:  # noqa: BLE001
            pass
        rows.append([str(dataset.name), type(dataset).__name__, counts, background, counts - background,
                     livetime, energy])
    table = Table(rows=rows, names=["name", "type", "counts", "background", "excess", "livetime",
                                    "safe energy range"], dtype=[str, str, float, float, float, float, str])
    table["livetime"].unit = "h"
    table["safe energy range"].unit = "TeV"
    return table


def _sky_models(models):
    """Models with a spectral model that are not background models."""
    out = []
    for model in models or []:
        if type(model).__name__ == "FoVBackgroundModel":
            continue
        if getattr(model, "spectral_model", None) is not None:
            out.append(model)
    return out


def _flux_points_by_source(flux_points, models):
    """``{source name: FluxPoints}`` from a FluxPoints, a FluxPointsDataset or a dict."""
    if flux_points is None:
        return {}
    if isinstance(flux_points, dict):
        items = flux_points.items()
    else:
        name = None
        dataset_models = getattr(flux_points, "models", None)
        if dataset_models is not None and len(list(dataset_models)):
            name = list(dataset_models)[0].name
        elif _sky_models(models):
            name = _sky_models(models)[0].name
        items = [(name or "source", flux_points)]
    return {name: getattr(fp, "data", fp) if not hasattr(fp, "energy_ref") else fp for name, fp in items}


def _value_text(value, error):
    """``value`` with enough digits to show its ``error`` (two significant digits of the error)."""
    if not np.isfinite(value):
        return _fmt(value)
    if np.isfinite(error) and error > 0 and value != 0:
        digits = int(np.clip(np.floor(np.log10(abs(value))) - np.floor(np.log10(error)) + 2, 2, 10))
        return f"{value:.{digits}g}"
    return f"{value:.4g}"


def _parameters_rows(models):
    """Parameter table (values and errors as text with matching digits) and the row classes."""
    table = models.to_parameters_table()
    rows, classes = [], []
    for row in table:
        value, error = float(row["value"]), float(row["error"])
        frozen = bool(row["frozen"])
        valid = np.isfinite(error) and error > 0
        rows.append([str(row["model"]), str(row["type"]), str(row["name"]), _value_text(value, error),
                     f"{error:.2g}" if valid and not frozen else "–", str(row["unit"]), "yes" if frozen else ""])
        classes.append("frozen" if frozen else "" if valid else "bad")
    out = Table(rows=rows, names=["model", "type", "name", "value", "error", "unit", "frozen"],
                dtype=[str] * 7) if rows else Table()
    return out, classes


def _fit_status(fit_result):
    status = {}
    optimize = getattr(fit_result, "optimize_result", fit_result)
    for key in ("backend", "method", "success", "message", "nfev", "total_stat"):
        value = getattr(optimize, key, None)
        if value is not None:
            status[f"optimize: {key}"] = value
    covariance = getattr(fit_result, "covariance_result", None)
    if covariance is not None:
        for key in ("method", "success", "message"):
            value = getattr(covariance, key, None)
            if value is not None:
                status[f"covariance: {key}"] = value
    return status


def _summary_html(summary):
    if summary is None:
        return ""
    if isinstance(summary, Table):
        return _html_table(summary)
    if isinstance(summary, dict):
        return _dict_table(summary)
    return f"<pre>{_esc(summary)}</pre>"


# ----------------------------------------------------------------------------- sections
def _maps_section(fig, maps, datasets, models):
    parts = []
    map_datasets = [d for d in datasets if _is_map_dataset(d)]
    if maps is None and map_datasets:
        dataset = map_datasets[0]
        try:
            maps = figures.dataset_images(dataset)
        except Exception as exc:  # noqa: BLE001
            log.warning(f"report: could not make the images of dataset {dataset.name!r}: {exc}")
            maps = {}
        if len(map_datasets) > 1:
            parts.append(f'<p class="note">Images of dataset {_esc(dataset.name)!s} '
                         f"(first of {len(map_datasets)}).</p>")
        parts.append('<p>Summed over the safe energy bins; the significance is the Li &amp; Ma '
                     "(Cash) significance of the counts in 0.1° circles against the background model.</p>")
    if not maps:
        return ""
    items = []
    for name, value in maps.items():
        style = None
        if isinstance(value, dict):
            value = dict(value)
            m = value.pop("map")
            caption = value.pop("caption", name)
            style = value
        else:
            m, caption = value, name
        items.append(fig.safe(f"map {name!r}", lambda m=m, name=name, style=style:
                              figures.sky_map_figure(name, m, models=models, style=style), caption))
    parts.append(f'<div class="figures">{"".join(items)}</div>')
    return _section("maps", "Sky maps", "\n".join(parts))


def _spectra_section(fig, datasets):
    spectra = [d for d in datasets if _is_spectrum_dataset(d) and not _is_map_dataset(d)]
    if not spectra:
        return ""
    items = [fig.safe(f"the counts of {d.name!r}", lambda d=d: figures.spectrum_counts_figure(d),
                      f"Dataset {d.name}: counts and background (left), excess and predicted signal (right); "
                      "grey: outside the safe energy range.") for d in spectra[:MAX_DATASET_FIGURES]]
    note = ""
    if len(spectra) > MAX_DATASET_FIGURES:
        note = f'<p class="note">First {MAX_DATASET_FIGURES} of {len(spectra)} datasets shown.</p>'
    return _section("spectra", "Counts and excess spectra", note + f'<div class="figures">{"".join(items)}</div>')


def _fit_section(fig, fit_result, models):
    if fit_result is None and models is None:
        return ""
    parts = []
    if fit_result is not None:
        success = bool(getattr(fit_result, "success", False))
        flag = '<span class="ok">converged</span>' if success else '<span class="fail">NOT converged</span>'
        parts.append(f"<p>Fit status: {flag}</p>")
        parts.append(_dict_table(_fit_status(fit_result)))
    if models is not None:
        table, classes = _parameters_rows(models)
        if len(table):
            parts.append("<h3>Parameters</h3>")
            parts.append('<p class="note">Errors are 1σ (from the covariance); frozen parameters in grey; '
                         "free parameters without a valid error in red.</p>")
            parts.append(_html_table(table, row_classes=classes, numeric=("value", "error")))
        if fit_result is not None:
            parts.append(fig.safe("the correlation matrix", lambda: figures.correlation_figure(models),
                                  "Correlation coefficients of the free parameters."))
    return _section("fit", "Fit", "\n".join(parts))


def _sed_section(fig, models, flux_points, sed_truth):
    by_source = _flux_points_by_source(flux_points, models)
    sources = _sky_models(models)
    items = []
    done = set()
    for model in sources:
        fp = by_source.get(model.name)
        truth = (sed_truth or {}).get(model.name)
        items.append(fig.safe(
            f"the SED of {model.name!r}",
            lambda model=model, fp=fp, truth=truth: figures.sed_figure(model.name, model.spectral_model,
                                                                       flux_points=fp, truth=truth),
            f"{model.name}: E² dN/dE of the best-fit model with its 1σ band"
            + (" and the flux points (arrows: upper limits)" if fp is not None else "") + "."))
        done.add(model.name)
    for name, fp in by_source.items():
        if name not in done:
            items.append(fig.safe(f"the flux points of {name!r}",
                                  lambda fp=fp, name=name: figures.sed_figure(name, None, flux_points=fp),
                                  f"{name}: flux points."))
    if not items:
        return ""
    return _section("sed", "Spectral energy distributions", f'<div class="figures">{"".join(items)}</div>')


def _flux_points_table_html(flux_points, models):
    parts = []
    for name, fp in _flux_points_by_source(flux_points, models).items():
        try:
            table = fp.to_table(sed_type="dnde", formatted=True)
        except Exception:  # noqa: BLE001
            continue
        columns = [c for c in ("e_ref", "e_min", "e_max", "dnde", "dnde_err", "dnde_errn", "dnde_errp",
                               "dnde_ul", "sqrt_ts", "is_ul") if c in table.colnames]
        table = table[columns]
        if "is_ul" in columns:
            is_ul = np.asarray(table["is_ul"], dtype=bool)
            for column in ("dnde", "dnde_err", "dnde_errn", "dnde_errp"):
                if column in columns and is_ul.any():
                    table[column][is_ul] = np.nan
        parts.append(f"<h3>Flux points: {_esc(name)}</h3>"
                     '<p class="note">Rows flagged as upper limits show only the limit (dnde_ul); '
                     "empty rows are outside the safe energy range.</p>" + _html_table(table))
    return "\n".join(parts)


def _residuals_section(fig, datasets, models):
    items = []
    for dataset in datasets[:MAX_DATASET_FIGURES]:
        if getattr(dataset, "models", None) is None or not len(list(dataset.models)):
            continue
        if _is_map_dataset(dataset):
            items.append(fig.safe(f"the residuals of {dataset.name!r}",
                                  lambda d=dataset: figures.residuals_map_figure(d, models=models),
                                  f"Dataset {dataset.name}: significance of the counts against the best-fit "
                                  "model in 0.1° circles (safe energy bins summed; noise-like where the model "
                                  "fits), and (counts − model) / √model per energy bin."))
        elif _is_spectrum_dataset(dataset):
            items.append(fig.safe(f"the residuals of {dataset.name!r}",
                                  lambda d=dataset: figures.residuals_spectrum_figure(d),
                                  f"Dataset {dataset.name}: excess and predicted signal, residuals below."))
    if not items:
        return ""
    return _section("residuals", "Residuals", f'<div class="figures">{"".join(items)}</div>')


def _light_curve_section(fig, light_curve):
    if light_curve is None:
        return ""
    parts = [fig.safe("the light curve", lambda: figures.light_curve_figure(light_curve),
                      "Integral flux per time bin (arrows: upper limits).")]
    try:
        table = light_curve.to_table(sed_type="flux", format="lightcurve")
        columns = [c for c in ("time_min", "time_max", "e_min", "e_max", "flux", "flux_err", "flux_ul", "ts")
                   if c in table.colnames]
        parts.append(_html_table(table[columns]))
    except Exception as exc:  # noqa: BLE001
        log.debug(f"report: no light-curve table: {exc}")
    return _section("light-curve", "Light curve", "\n".join(parts))


def _extra_section(fig, extra_figures):
    if not extra_figures:
        return ""
    items = extra_figures.items() if isinstance(extra_figures, dict) else extra_figures
    body = "".join(fig.html(f, str(caption)) for caption, f in items)
    return _section("more", "More figures", f'<div class="figures">{body}</div>')


def _products_section(products):
    if not products:
        return ""
    rows = "".join(f'<tr><th class="text">{_esc(name)}</th><td class="text">{_esc(path)}</td></tr>'
                   for name, path in products.items())
    return _section("products", "Products", f"<table><tbody>{rows}</tbody></table>")


# ----------------------------------------------------------------------------- public API
def render_report(*, title, config=None, observations=None, datasets=None, fit_result=None, models=None,
                  flux_points=None, maps=None, light_curve=None, extra_figures=None, summary=None,
                  products=None, sed_truth=None):
    """HTML text of the report (see `write_report` for the arguments).

    Returns
    -------
    text : str
        The HTML document.
    n_figures : int
        Number of embedded figures.
    """
    from .. import __version__

    if models is None and datasets is not None:
        models = getattr(datasets, "models", None)
    datasets = _dataset_list(datasets)
    if models is None and datasets:
        models = _models_of(datasets)
    fig = _Figures()
    sections = []
    if summary is not None:
        sections.append(_section("summary", "Summary", _summary_html(summary)))
    config_text = _config_text(config)
    if config_text is not None:
        sections.append(_section("config", "Configuration", f"<pre>{_esc(config_text)}</pre>"))
    table = _observation_table(observations)
    if table is not None:
        sections.append(_section("observations", "Observations",
                                 f"<p>{len(table)} observation(s).</p>" + _html_table(table)))
    if datasets:
        sections.append(_section("datasets", "Datasets", _html_table(_datasets_table(datasets))))
    sections.append(_maps_section(fig, maps, datasets, models))
    sections.append(_spectra_section(fig, datasets))
    sections.append(_fit_section(fig, fit_result, models))
    sed = _sed_section(fig, models, flux_points, sed_truth)
    if sed:
        sed = sed.replace("</section>", _flux_points_table_html(flux_points, models) + "\n</section>")
    sections.append(sed)
    sections.append(_residuals_section(fig, datasets, models))
    sections.append(_light_curve_section(fig, light_curve))
    sections.append(_extra_section(fig, extra_figures))
    sections.append(_products_section(products))
    sections = [s for s in sections if s]

    nav = " ".join(
        f'<a href="#{anchor}">{label}</a>' for anchor, label in (
            ("summary", "Summary"), ("config", "Configuration"), ("observations", "Observations"),
            ("datasets", "Datasets"), ("maps", "Maps"), ("spectra", "Spectra"), ("fit", "Fit"),
            ("sed", "SED"), ("residuals", "Residuals"), ("light-curve", "Light curve"),
            ("more", "More"), ("products", "Products"))
        if any(f'<section id="{anchor}">' in s for s in sections)
    )
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gammalike {_esc(__version__)}">
<title>{_esc(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{_esc(title)}</h1><p>gammalike {_esc(__version__)} · {now} · {fig.count} figures</p></header>
<nav>{nav}</nav>
<main>
{chr(10).join(sections)}
</main>
<footer>Self-contained report written by gammalike: figures are embedded PNG images.</footer>
</body>
</html>
"""
    return text, fig.count


def write_report(filename, *, title, config=None, observations=None, datasets=None, fit_result=None,
                 models=None, flux_points=None, maps=None, light_curve=None, extra_figures=None,
                 overwrite=False, summary=None, products=None, sed_truth=None):
    """Write a self-contained HTML report of an analysis.

    Every argument but ``filename`` and ``title`` is optional; a section
    appears only when its inputs are given.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        Output HTML file.
    title : str
        Title of the page.
    config : `~gammalike.analysis.AnalysisConfig`, dict or str, optional
        Configuration, shown as YAML.
    observations : `~astropy.table.Table` or `~gammalike.data.Observations`, optional
        Observation table (an `Observations` is summarised: id, start, pointing, live time).
    datasets : `~gammalike.datasets.Datasets`, list or dataset, optional
        Datasets: a summary table; for 3D datasets the counts / excess /
        significance images (when ``maps`` is not given) and the spatial and
        spectral residuals; for 1D datasets the counts and excess spectra and
        the fit residuals.
    fit_result : `~gammalike.modeling.FitResult`, optional
        Fit status (optimizer and covariance) and correlation matrix.
    models : `~gammalike.modeling.models.Models`, optional
        Parameter table with errors and one SED per sky model (default: the
        models of the datasets).
    flux_points : `~gammalike.estimators.FluxPoints`, `FluxPointsDataset` or dict, optional
        Flux points drawn on the SED of their source (a dict maps source
        names to flux points; a single `FluxPoints` goes with the first sky model).
    maps : dict of str -> `~gammalike.maps.Map` (or dict with key "map" and style overrides), optional
        Sky maps to show, e.g. ``{"counts": ..., "excess": ..., "significance": ...}``;
        the colour scale follows the name (see `report_figures.map_style`).
    light_curve : `~gammalike.estimators.FluxPoints`, optional
        Light curve (flux points with a time axis).
    extra_figures : dict of str -> `~matplotlib.figure.Figure`, optional
        More figures, keyed by caption (closed after encoding).
    overwrite : bool
        Replace an existing file.
    summary : `~astropy.table.Table`, dict or str, optional
        Shown first (e.g. fitted versus true values of a simulation).
    products : dict of str -> path, optional
        Files written next to the report, listed at the end.
    sed_truth : dict of str -> spectral model, optional
        True spectra of simulated sources, drawn dashed on their SED.

    Returns
    -------
    path : `~pathlib.Path`
        The written file.
    """
    path = make_path(filename)
    text, n_figures = render_report(
        title=title, config=config, observations=observations, datasets=datasets, fit_result=fit_result,
        models=models, flux_points=flux_points, maps=maps, light_curve=light_curve,
        extra_figures=extra_figures, summary=summary, products=products, sed_truth=sed_truth,
    )
    with write_atomic(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    log.info(f"Wrote the report ({n_figures} figures, {len(text) / 1e6:.1f} MB): {path}")
    return path


def write_analysis_report(analysis, filename=None, overwrite=False, title=None):
    """Write the report of an `~gammalike.analysis.Analysis` (what it has computed so far).

    Parameters
    ----------
    analysis : `~gammalike.analysis.Analysis`
        The analysis (its config, observations, datasets, models, fit result,
        flux points, excess map, light curve and written products are used).
    filename : str or `~pathlib.Path`, optional
        Output file (default ``<general.outdir>/report.html``).
    overwrite : bool
        Replace an existing file.
    title : str, optional
        Page title (default: "gammalike analysis report").

    Returns
    -------
    path : `~pathlib.Path`
    """
    config = analysis.config
    if filename is None:
        filename = make_path(config.general.outdir) / "report.html"
    flux_points = getattr(analysis, "flux_points", None)
    if flux_points is not None:
        source = getattr(getattr(config, "flux_points", None), "source", None)
        data = getattr(flux_points, "data", flux_points)
        flux_points = {source: data} if source else data
    maps = None
    excess_map = getattr(analysis, "excess_map", None)
    if excess_map is not None:
        maps = {}
        for name, quantity in (("counts", "counts"), ("excess", "npred_excess"), ("significance", "sqrt_ts")):
            try:
                maps[name] = excess_map[quantity]
            except (KeyError, AttributeError):
                continue
    models = getattr(analysis, "models", None)
    return write_report(
        filename, title=title or "gammalike analysis report", config=config,
        observations=getattr(analysis, "observations", None), datasets=analysis.datasets,
        fit_result=analysis.fit_result, models=models, flux_points=flux_points, maps=maps,
        light_curve=getattr(analysis, "light_curve", None), overwrite=overwrite,
        products={k: str(v) for k, v in getattr(analysis, "products", {}).items()},
    )
