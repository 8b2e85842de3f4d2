"""Covariance matrix attached to a parameter list."""
import numpy as np
from astropy.table import Table

from .parameter import Parameters

__all__ = ["Covariance"]


class Covariance:
    """Covariance matrix of a list of parameters.

    The matrix is indexed like ``parameters`` (duplicates included), in the
    parameters' own units.

    Parameters
    ----------
    parameters : `Parameters`
        Parameters.
    data : `~numpy.ndarray`, optional
        Matrix of shape (n, n); zeros by default.
    """

    def __init__(self, parameters, data=None):
        self.parameters = Parameters(parameters)
        n = len(self.parameters)
        if data is None:
            data = np.diag(self.parameters.errors ** 2) if n else np.zeros((0, 0))
        data = np.asarray(data, dtype=float)
        if data.shape != (n, n):
            raise ValueError(
                f"Covariance matrix shape {data.shape} does not match {n} parameters"
            )
        self._data = data

    @property
    def shape(self):
        return self._data.shape

    @property
    def data(self):
        """Matrix as a float array."""
        return self._data

    @data.setter
    def data(self, value):
        value = np.asarray(value, dtype=float)
        if value.shape != self.shape:
            raise ValueError(f"Covariance matrix shape {value.shape}, expected {self.shape}")
        self._data = value

    @property
    def correlation(self):
        """Correlation matrix (0 where an error is zero)."""
        err = np.sqrt(np.diag(self._data))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = self._data / np.outer(err, err)
        return np.nan_to_num(corr)

    def _indices(self, parameters):
        return np.array([self.parameters.index(par) for par in parameters], dtype=int)

    def get_subcovariance(self, parameters):
        """Sub-matrix for a subset of the parameters (identity lookup)."""
        idx = self._indices(parameters)
        return self._data[np.ix_(idx, idx)]

    def set_subcovariance(self, covar):
        """Copy the entries of another `Covariance` into this matrix.

        Every occurrence of a parameter object receives the entries, so a
        parameter shared between models gets the same errors everywhere.
        """
        src = {id(p): i for i, p in enumerate(covar.parameters)}
        rows = [(i, src[id(p)]) for i, p in enumerate(self.parameters) if id(p) in src]
        if not rows:
            return
        dst_idx = np.array([r[0] for r in rows])
        src_idx = np.array([r[1] for r in rows])
        self._data[np.ix_(dst_idx, dst_idx)] = covar.data[np.ix_(src_idx, src_idx)]

    @classmethod
    def from_stack(cls, covar_list):
        """Block-diagonal stack of several covariances."""
        parameters = Parameters.from_stack([c.parameters for c in covar_list])
        covar = cls(parameters)
        for c in covar_list:
            covar.set_subcovariance(c)
        return covar

    def to_table(self, labels=None):
        """Matrix as a table: a "Parameters" column of labels, then columns "0", "1", ...

        Parameters
        ----------
        labels : list of str, optional
            Row labels; the parameter names by default (`Models` passes
            ``"<model>.<spectral|spatial|temporal>.<name>"``).
        """
        n = len(self.parameters)
        labels = self.parameters.names if labels is None else list(labels)
        if len(labels) != n:
            raise ValueError(f"Expected {n} covariance labels, got {len(labels)}")
        table = Table()
        table["Parameters"] = np.array(labels, dtype=str) if n else np.array([], dtype=str)
        for idx in range(n):
            table[str(idx)] = self._data[:, idx]
        return table

    def write(self, filename, overwrite=False, labels=None):
        """Write the matrix in astropy's ``ascii.fixed_width`` format (gammapy's layout).

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Output file.
        overwrite : bool
            Replace an existing file.
        labels : list of str, optional
            Row labels (see `to_table`).
        """
        from ..utils.io import write_atomic

        # astropy writes float64 with the shortest round-trip repr: write -> read is exact
        table = self.to_table(labels=labels)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            table.write(tmp, format="ascii.fixed_width")

    @staticmethod
    def read_table(filename):
        """Read a covariance file: ``(labels, matrix)``.

        Accepts the ``ascii.fixed_width`` layout (first column "Parameters",
        then "0", "1", ...) and a plain whitespace-separated matrix with
        parameter names as header (labels are then the column names).
        """
        from ..utils.paths import make_path

        path = make_path(filename)
        text = path.read_text()
        if text.lstrip().startswith("|"):
            # "|"-delimited rows; parsed by hand so that misaligned columns still load
            rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
                    for line in text.splitlines() if line.strip().startswith("|")]
            header, body = rows[0], rows[1:]
            if any(len(row) != len(header) for row in body):
                raise ValueError(f"{path}: covariance rows do not all have {len(header)} cells")
            try:
                values = np.array([[float(x) for x in row[1:]] for row in body], dtype=float)
            except ValueError as exc:
                raise ValueError(f"{path}: non-numeric covariance entry ({exc})") from exc
            labels = [row[0] for row in body]
            data = values.reshape(len(body), len(header) - 1)
            if data.shape != (len(labels), len(labels)):
                raise ValueError(
                    f"{path}: covariance matrix has shape {data.shape}, expected a square "
                    f"matrix with one row per label ({len(labels)} labels)"
                )
            return labels, data
        table = Table.read(text, format="ascii.basic")
        if "Parameters" in table.colnames:
            labels = [str(x) for x in table["Parameters"]]
            cols = [c for c in table.colnames if c != "Parameters"]
        else:
            cols = table.colnames
            labels = list(cols)
        data = np.array([np.asarray(table[c], dtype=float) for c in cols], dtype=float).T
        if data.shape != (len(labels), len(labels)):
            raise ValueError(
                f"{path}: covariance matrix has shape {data.shape}, expected a square "
                f"matrix with one row per label ({len(labels)} labels)"
            )
        return labels, data

    def read(self, filename):
        """Read a matrix written by `write` into this covariance (same order of parameters)."""
        labels, data = self.read_table(filename)
        if data.shape != self.shape:
            raise ValueError(
                f"{filename}: covariance matrix has shape {data.shape}, "
                f"expected {self.shape} for {len(self.parameters)} parameters"
            )
        self._data = data

    def plot_correlation(self, ax=None, **kwargs):
        """Image of the correlation matrix, parameters labelled."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        kwargs.setdefault("cmap", "coolwarm")
        kwargs.setdefault("vmin", -1)
        kwargs.setdefault("vmax", 1)
        im = ax.imshow(self.correlation, **kwargs)
        names = self.parameters.names
        ax.set_xticks(range(len(names)), names, rotation=90)
        ax.set_yticks(range(len(names)), names)
        plt.colorbar(im, ax=ax, label="correlation")
        return ax

    def __str__(self):
        return str(self.to_table())


def _unique_names(names):
    """Make names unique for table columns (``norm``, ``norm_1``...)."""
    seen = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        out.append(name if count == 0 else f"{name}_{count}")
        seen[name] = count + 1
    return out
