"""Paths: environment-variable expansion and the data folder."""
import os
import re
from pathlib import Path

__all__ = ["make_path", "data_folder"]

# Both variables name the same data folder; the seeds' YAML uses $GAMMAPY_DATA.
_DATA_VARIABLES = ("GAMMALIKE_DATA", "GAMMAPY_DATA")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def data_folder():
    """The data folder named by ``$GAMMALIKE_DATA`` or ``$GAMMAPY_DATA``.

    Returns
    -------
    path : `~pathlib.Path` or None
        None when neither variable is set.
    """
    for name in _DATA_VARIABLES:
        value = os.environ.get(name)
        if value:
            return Path(value).expanduser()
    return None


def _expand_variable(match):
    name = match.group(1) or match.group(2)
    if name in _DATA_VARIABLES:
        folder = data_folder()
        if folder is None:
            raise OSError(
                f"${name} is used in a path but neither GAMMALIKE_DATA nor "
                "GAMMAPY_DATA is set: point one of them at the data folder"
            )
        return str(folder)
    value = os.environ.get(name)
    if value is None:
        raise OSError(f"Environment variable ${name} used in a path is not set")
    return value


def make_path(path):
    """Expand ``$VAR`` / ``${VAR}``, ``~`` and return a `~pathlib.Path`.

    ``$GAMMALIKE_DATA`` and ``$GAMMAPY_DATA`` are interchangeable: either
    variable resolves to whichever of the two is set.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        Path to expand.

    Returns
    -------
    path : `~pathlib.Path`
        Expanded path (relative paths stay relative).
    """
    if path is None:
        raise TypeError("make_path: expected a str or Path, got None")
    text = _VARIABLE.sub(_expand_variable, str(path))
    return Path(text).expanduser()
