"""File-writing helpers: never lose what is already on disk."""
import os
import tempfile
from contextlib import contextmanager

from .paths import make_path

__all__ = ["write_atomic", "check_overwrite"]


def check_overwrite(filename, overwrite):
    """Raise `FileExistsError` if ``filename`` exists and ``overwrite`` is False."""
    path = make_path(filename)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists: pass overwrite=True to replace it"
        )
    return path


@contextmanager
def write_atomic(filename, overwrite=False):
    """Context manager yielding a temporary path that replaces ``filename`` on success.

    The data are written next to the destination and renamed into place, so a
    failed write leaves any existing file untouched.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        Destination.
    overwrite : bool
        Replace an existing file.

    Yields
    ------
    tmp : `~pathlib.Path`
        Temporary file to write to (same suffixes as ``filename``, so that
        writers choosing compression from the name still work).
    """
    path = check_overwrite(filename, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as astropy refuse an existing file
    try:
        yield make_path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
