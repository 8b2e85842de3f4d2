"""Command-line entry point: ``gammalike run``, ``config``, ``check``, ``info``, ``demo``."""
import logging
import sys

import click

from .. import __version__

log = logging.getLogger(__name__)


class _Group(click.Group):
    """Click group turning exceptions into a one-line message and exit status 1.

    With ``--verbose`` the traceback is shown as well.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gammalike")
@click.option("--verbose", "-v", is_flag=True, help="Debug logging and full tracebacks.")
@click.option("--quiet", "-q", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def cli(ctx, verbose, quiet):
    """gammalike: gamma-ray astronomy data analysis."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")


@cli.command()
def info():
    """Print the version, the dependencies and the data folder."""
    from ..utils.check import environment_info

    details = environment_info()
    click.echo(f"gammalike {__version__}")
    click.echo(f"python    {details['system']['python_version']}")
    click.echo("")
    click.echo("Dependencies:")
    for name, version in details["packages"].items():
        click.echo(f"  {name:<13}: {version}")
    click.echo("")
    folder = details["data"]["folder"]
    if folder is None:
        click.echo("Data folder: not set (set GAMMALIKE_DATA or GAMMAPY_DATA)")
    elif details["data"]["found"]:
        click.echo(f"Data folder: {folder} (found)")
    else:
        click.echo(f"Data folder: {folder} (does not exist)")

@cli.command()
@click.option("--outdir", type=click.Path(file_okay=False), default="gammalike-demo", show_default=True,
              help="Folder for the report and the products (the demo's own files in it are replaced).")
@click.option("--seed", default=0, show_default=True, help="Seed of the event simulation.")
@click.option("--livetime", default="1 h", show_default=True, help="Live time of the simulated observation.")
@click.pass_context
def demo(ctx, outdir, seed, livetime):
    """Simulate a CTA-like observation of two sources, analyse it and write report.html (no download).

    Simulates the events of a Crab-like point source, a Gaussian source and the
    background with parametrised CTA-South IRFs, reduces them to a 3D dataset,
    makes a TS map, fits both sources and the background norm, computes flux
    points, writes the products and an HTML report to OUTDIR and prints the
    fitted values against the simulated truth.
    """
    import time

    from astropy import units as u

    from .demo import pulls_table, run_demo

    start = time.perf_counter()
    try:
        livetime = u.Quantity(livetime)
    except (TypeError, ValueError):
        raise click.BadParameter(f"{livetime!r} is not a time such as '1 h'", param_hint="--livetime") from None
    if not livetime.unit.is_equivalent("s") or not livetime.value > 0:
        raise click.BadParameter(f"{livetime!r} is not a positive time such as '1 h'", param_hint="--livetime")
    quiet = bool((ctx.obj or {}).get("quiet"))
    result = run_demo(outdir=outdir, random_state=seed, livetime=livetime, progress=None if not quiet else False)
    elapsed = time.perf_counter() - start

    click.echo(str(result.fit_result))
    click.echo("")
    click.echo("Fitted versus simulated values (pull = (fitted - true) / error):")
    table = pulls_table(result.dataset.models, result.truth)
    click.echo("\n".join(table.pformat(max_lines=-1, max_width=-1)))
    click.echo("")
    click.echo("Products:")
    for name, path in result.products.items():
        click.echo(f"  {name:<17}: {path}")
    click.echo("")
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
    click.echo(f"Steps: {steps}")
    click.echo(f"Wall time: {elapsed:.1f} s")
    if not result.fit_result.success:
        raise click.ClickException(f"the fit did not converge: {result.fit_result.message}")


# ---------------------------------------------------------------------------- run
def _log_level(ctx):
    obj = ctx.obj or {}
    if obj.get("verbose"):
        return "debug"
    if obj.get("quiet"):
        return "warning"
    return None


def _parameters_table(models):
    table = models.to_parameters_table()
    names = [c for c in ("model", "type", "name", "value", "unit", "error", "frozen") if c in table.colnames]
    table = table[names]
    table["value"].format = ".5e"
    table["error"].format = ".3e"
    return "\n".join(table.pformat(max_lines=-1, max_width=-1))


def _logging_above_progress_bars():
    """Context printing the console log lines above the progress bars instead of through them."""
    from contextlib import nullcontext

    root = logging.getLogger()
    console = [h for h in root.handlers if isinstance(h, logging.StreamHandler)
               and getattr(h, "stream", None) in (sys.stdout, sys.stderr)]
    if not console:
        return nullcontext()
    try:
        from tqdm.contrib.logging import logging_redirect_tqdm
    except ImportError:  # tqdm is optional
        return nullcontext()
    return logging_redirect_tqdm(loggers=[root])


def _excess_summary(excess_map):
    import numpy as np

    sqrt_ts = excess_map["sqrt_ts"]
    data = np.nan_to_num(np.asarray(sqrt_ts.data, dtype=float), nan=-np.inf)
    idx = np.unravel_index(np.argmax(data), data.shape)
    coord = sqrt_ts.geom.pix_to_coord(idx[::-1])
    return (f"Excess map: maximum sqrt_ts {data[idx]:.2f} at lon {float(np.ravel(coord[0])[0]):.3f} deg, "
            f"lat {float(np.ravel(coord[1])[0]):.3f} deg ({sqrt_ts.geom.frame})")


def _dask_client(address):
    """A `dask.distributed` client of the scheduler at ``address`` (the active client from then on)."""
    try:
        from distributed import Client
    except ImportError:
        raise click.ClickException("--scheduler needs dask.distributed: pip install 'gammalike[dask]'") from None
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise click.ClickException(f"--scheduler: cannot connect to a dask scheduler at {address!r}: {exc}") \
            from None


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--steps", default=None, metavar="LIST",
              help="Comma-separated steps among data, fit, flux-points, excess-map, light-curve "
                   "(default: every step the configuration and models allow).")
@click.option("--outdir", type=click.Path(file_okay=False), default=None,
              help="Output folder (overrides general.outdir).")
@click.option("--models", "models_file", type=click.Path(dir_okay=False), default=None,
              help="Models YAML (overrides general.models_file).")
@click.option("--overwrite", is_flag=True, help="Replace existing products in the output folder.")
@click.option("--n-jobs", type=click.IntRange(min=1), default=None,
              help="Parallel jobs of the data reduction (overrides general.n_jobs).")
@click.option("--parallel-backend", type=click.Choice(["multiprocessing", "dask"]), default=None,
              help="Where the jobs run: local processes (default) or dask (pip install 'gammalike[dask]').")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Address of a dask.distributed scheduler (e.g. tcp://10.0.0.1:8786): the jobs run on "
                   "its cluster (implies --parallel-backend dask; --n-jobs defaults to its worker threads).")
@click.pass_context
def run(ctx, config, steps, outdir, models_file, overwrite, n_jobs, parallel_backend, scheduler):
    """Run the analysis described by the YAML file CONFIG and write its products.

    Products (config, datasets, models, fit result, flux points, maps, light
    curve, report.html) go to general.outdir or --outdir; the fit result and
    the parameter table are printed.
    """
    import time

    from ..analysis import Analysis, AnalysisConfig
    from ..analysis.core import _expand_steps
    from ..utils.paths import make_path

    start = time.perf_counter()
    analysis_config = AnalysisConfig.read(config)
    if outdir is not None:
        analysis_config.general.outdir = str(outdir)
    if models_file is not None:
        path = make_path(models_file)
        if not path.is_file():
            raise click.ClickException(f"--models: {path} does not exist")
        analysis_config.general.models_file = str(path)
    level = _log_level(ctx)
    if level is not None:
        analysis_config.general.log.level = level
    if scheduler is not None and parallel_backend == "multiprocessing":
        raise click.UsageError("--scheduler runs the jobs on dask: it cannot go with --parallel-backend "
                               "multiprocessing")
    from ..utils import parallel

    client = _dask_client(scheduler) if scheduler is not None else None
    if client is not None:
        parallel_backend = "dask"
        if n_jobs is None:
            n_jobs = parallel.n_jobs_or_default(-1, "dask")  # the new client's worker threads
        log.info(f"Dask cluster at {scheduler}: {len(client.nthreads())} workers, {n_jobs} jobs")
    if n_jobs is not None:
        analysis_config.general.n_jobs = n_jobs
    if parallel_backend is not None:
        try:
            parallel.backend_or_default(parallel_backend)
        except ImportError as exc:
            raise click.ClickException(f"--parallel-backend: {exc}") from None
    analysis = Analysis(analysis_config)
    if steps is None:
        selected = analysis.default_steps()
    else:
        requested = _expand_steps(steps, Analysis.STEPS)
        # prerequisites: every step after the reduction needs the datasets; estimators need the fit
        if any(s != "observations" for s in requested):
            requested += ["observations", "datasets"]
        if any(s in ("flux-points", "light-curve") for s in requested):
            requested.append("fit")
        selected = _expand_steps(requested + ["write"], Analysis.STEPS)
    if analysis_config.general.datasets_file is not None and "observations" in selected:
        selected.remove("observations")
    log.info(f"Steps: {', '.join(selected)}")
    show_bars, backend = parallel.SHOW_PROGRESS_BAR, parallel.BACKEND_DEFAULT
    parallel.SHOW_PROGRESS_BAR = show_bars and not (ctx.obj or {}).get("quiet")
    if parallel_backend is not None:
        parallel.BACKEND_DEFAULT = parallel_backend
    try:
        with _logging_above_progress_bars():
            analysis.run(steps=selected, overwrite=overwrite)
    finally:
        parallel.SHOW_PROGRESS_BAR, parallel.BACKEND_DEFAULT = show_bars, backend
        if client is not None:
            client.close()
    if analysis.datasets is not None:
        from ..visualization.report import write_analysis_report

        analysis.products["report"] = write_analysis_report(analysis, overwrite=overwrite)

    if analysis.fit_result is not None:
        click.echo(str(analysis.fit_result))
        click.echo(_parameters_table(analysis.models))
        click.echo("")
    if analysis.flux_points is not None:
        table = analysis.flux_points.data.to_table(sed_type="dnde", formatted=True)
        columns = [c for c in ("e_min", "e_ref", "e_max", "dnde", "dnde_err", "dnde_ul", "sqrt_ts")
                   if c in table.colnames]
        click.echo("Flux points:")
        click.echo("\n".join(table[columns].pformat(max_lines=-1, max_width=-1)))
        click.echo("")
    if analysis.light_curve is not None:
        table = analysis.light_curve.to_table(sed_type="flux", format="lightcurve")
        columns = [c for c in ("time_min", "time_max", "flux", "flux_err", "flux_ul", "ts") if c in table.colnames]
        table = table[columns]
        for name in columns:
            table[name].format = ".5f" if name.startswith("time") else ".2f" if name == "ts" else ".4e"
        click.echo("Light curve (times in MJD):")
        click.echo("\n".join(table.pformat(max_lines=-1, max_width=-1)))
        click.echo("")
    if analysis.excess_map is not None:
        click.echo(_excess_summary(analysis.excess_map))
        click.echo("")
    click.echo("Products:")
    for name, path in analysis.products.items():
        click.echo(f"  {name:<15}: {path}")
    click.echo(f"\nWall time: {time.perf_counter() - start:.1f} s")
    if analysis.fit_result is not None and not analysis.fit_result.success:
        raise click.ClickException(f"the fit did not converge: {analysis.fit_result.message}")


# ---------------------------------------------------------------------------- config
@cli.command("config")
@click.option("--template", "kind", type=click.Choice(["1d", "3d"]), default="1d", show_default=True,
              help="Which example analysis to write.")
@click.option("--filename", "-f", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of printing.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.option("--validate", "validate", type=click.Path(dir_okay=False), default=None,
              help="Instead: read this configuration, report errors, print it completed with defaults.")
def config_command(kind, filename, overwrite, validate):
    """Print (or write) a template analysis configuration, or validate one.

    \b
        gammalike config --template 3d > config.yaml
        gammalike config --validate config.yaml
    """
    from ..analysis import AnalysisConfig
    from ..analysis.template import template_config

    if validate is not None:
        config = AnalysisConfig.read(validate)
        click.echo(config.to_yaml(), nl=False)
        click.echo(f"{validate}: valid", err=True)
        return
    config = template_config(kind)
    if filename is None:
        click.echo(config.to_yaml(), nl=False)
        return
    config.write(filename, overwrite=overwrite)
    click.echo(f"Wrote {kind} template configuration to {filename}", err=True)


# ---------------------------------------------------------------------------- check
@cli.command()
@click.argument("datastore", type=click.Path())
@click.option("--checks", default=",".join(("obs_table", "hdu_table", "observations", "units")),
              show_default=True, help="Comma-separated checks to run.")
def check(datastore, checks):
    """Validate the DL3 data store DATASTORE (a folder with its index tables, or an index file).

    Checks the observation and HDU index tables, that every referenced file and
    HDU exists and loads, and the units of the table columns. Prints one line
    per problem; the exit status is 1 if there is any error or warning.
    """
    from .check import check_datastore, format_problem, open_datastore

    import warnings

    store = open_datastore(datastore)
    names = [c.strip() for c in checks.split(",") if c.strip()]
    counts = {"error": 0, "warning": 0, "info": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for problem in check_datastore(store, names):
            level = str(problem.get("level", "error")).lower()
            counts[level] = counts.get(level, 0) + 1
            click.echo(format_problem(problem))
    # warnings raised while loading the files: one line each, once
    for message in dict.fromkeys(str(w.message) for w in caught):
        counts["warning"] += 1
        click.echo(format_problem(dict(level="warning", msg=message)))
    n_obs = len(store.obs_ids)
    summary = (f"{datastore}: {n_obs} observations checked; "
               f"{counts['error']} errors, {counts['warning']} warnings")
    if counts["error"] or counts["warning"]:
        raise click.ClickException(summary)
    click.echo(summary)
