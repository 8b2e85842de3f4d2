"""Command-line entry point: ``gammalike info``, ``gammalike demo``."""
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
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")


@cli.command()
def info():
    """Print the version, the dependencies and the data folder."""
    from importlib import metadata

    from ..utils.paths import data_folder

    click.echo(f"gammalike {__version__}")
    click.echo(f"python    {sys.version.split()[0]}")
    click.echo("")
    click.echo("Dependencies:")
    for name in ("numpy", "scipy", "astropy", "regions", "iminuit", "pyyaml",
                 "pydantic", "matplotlib", "click", "tqdm", "naima"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        click.echo(f"  {name:<11}: {version}")
    click.echo("")
    folder = data_folder()
    if folder is None:
        click.echo("Data folder: not set (set GAMMALIKE_DATA or GAMMAPY_DATA)")
    elif folder.is_dir():
        click.echo(f"Data folder: {folder} (found)")
    else:
        click.echo(f"Data folder: {folder} (does not exist)")


@cli.command()
@click.option("--seed", default=0, show_default=True, help="Seed of the simulation.")
def demo(seed):
    """Simulate a CTA-like spectrum, fit it and print the result (no download)."""
    from .demo import TRUE_AMPLITUDE, TRUE_INDEX, run_demo

    dataset, result, elapsed = run_demo(random_state=seed)
    click.echo(str(dataset))
    click.echo("")
    click.echo(str(result))
    click.echo("")
    spectral = dataset.models["source"].spectral_model
    click.echo("Fitted source model vs simulated truth:")
    for name, truth in (("index", TRUE_INDEX), ("amplitude", TRUE_AMPLITUDE.value)):
        par = spectral.parameters[name]
        pull = (par.value - truth) / par.error if par.error > 0 else float("nan")
        click.echo(
            f"  {name:<10}: {par.value:.4g} ± {par.error:.2g} {par.unit.to_string()}"
            f"   (truth {truth:.4g}, pull {pull:+.2f})"
        )
    click.echo(f"\nWall time: {elapsed:.2f} s")
    if not result.success:
        raise click.ClickException("the fit did not converge")
