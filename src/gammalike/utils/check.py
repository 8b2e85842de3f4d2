"""Environment checks: what is installed and where the data folder is."""
import platform
import sys
from importlib import metadata

from .paths import data_folder

__all__ = ["check_tutorials_setup", "environment_info"]

_PACKAGES = ("numpy", "scipy", "astropy", "regions", "iminuit", "pyyaml", "pydantic",
             "matplotlib", "click", "tqdm", "threadpoolctl", "naima")


def environment_info():
    """Versions of Python, gammalike and its dependencies, and the data folder.

    Returns
    -------
    info : dict
        Keys "system", "gammalike", "packages" (name -> version or
        "not installed") and "data" (folder and whether it exists).
    """
    from .. import __version__

    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    folder = data_folder()
    return {
        "system": {"python_executable": sys.executable, "python_version": platform.python_version(),
                   "machine": platform.machine(), "system": platform.system()},
        "gammalike": {"version": __version__},
        "packages": packages,
        "data": {"folder": folder, "found": folder is not None and folder.is_dir()},
    }


def check_tutorials_setup(print_info=True):
    """Print the environment a tutorial runs in (as the seeds' "Check setup" cell).

    Returns
    -------
    info : dict
        See `environment_info`.
    """
    info = environment_info()
    if print_info:
        lines = ["", "System:", ""]
        lines += [f"\t{key:<22} : {value}" for key, value in info["system"].items()]
        lines += ["", "gammalike package:", "", f"\t{'version':<22} : {info['gammalike']['version']}",
                  "", "Other packages:", ""]
        lines += [f"\t{key:<22} : {value}" for key, value in info["packages"].items()]
        folder = info["data"]["folder"]
        state = "not set" if folder is None else f"{folder} ({'found' if info['data']['found'] else 'missing'})"
        lines += ["", "Data folder (GAMMALIKE_DATA / GAMMAPY_DATA):", "", f"\t{state}", ""]
        print("\n".join(lines))
    return info
