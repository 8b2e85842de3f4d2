"""`RegionNDMap`: map data on a `RegionGeom` (one spatial bin, e.g. a spectrum)."""
import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Table

from ..utils import make_path
from .core import Map
from .io import axes_from_bands_table, axes_to_bands_table
from .region import RegionGeom, _read_region_hdu

__all__ = ["RegionNDMap"]

_OGIP_COLUMNS = ("COUNTS", "QUALITY", "BACKSCAL", "AREASCAL")


class RegionNDMap(Map):
    """Map on a `RegionGeom`: data of shape ``axes.data_shape + (1, 1)``.

    Parameters
    ----------
    geom : `RegionGeom`
        Geometry.
    data : `~numpy.ndarray`, optional
        Data (zeros if None); a 1D array of the axis length is reshaped.
    dtype : str
        Data type when ``data`` is None.
    meta : dict, optional
        Metadata.
    unit : str or `~astropy.units.Unit`
        Data unit.
    """

    tag = "region"

    def __init__(self, geom, data=None, dtype="float32", meta=None, unit=""):
        if not isinstance(geom, RegionGeom):
            raise TypeError(f"RegionNDMap: expected a RegionGeom, got {type(geom).__name__}")
        super().__init__(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    @classmethod
    def create(cls, region, axes=None, dtype="float32", meta=None, unit="", wcs=None,
               binsz_wcs="0.1 deg", data=None):
        """Map on ``RegionGeom.create(region, axes=axes, wcs=wcs, binsz_wcs=binsz_wcs)``."""
        geom = RegionGeom.create(region=region, axes=axes, wcs=wcs, binsz_wcs=binsz_wcs)
        return cls(geom=geom, data=data, dtype=dtype, meta=meta, unit=unit)

    @classmethod
    def from_geom(cls, geom, meta=None, data=None, unit="", dtype="float32", **kwargs):
        return cls(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    # ------------------------------------------------------------------ geometry-free helpers
    def cutout(self, *args, **kwargs):
        """A region map is its own cutout (copy)."""
        return self.copy()

    def to_region_nd_map(self, *args, **kwargs):
        return self.copy()

    def fill_events(self, events, weights=None):
        """Count events (with ``radec`` and ``energy`` attributes) inside the region."""
        coords = {"skycoord": events.radec}
        for ax in self.geom.axes:
            if ax.name == "energy":
                coords["energy"] = events.energy
            else:
                coords[ax.name] = getattr(events, ax.name)
        self.fill_by_coord(coords, weights=weights)

    # ------------------------------------------------------------------ plotting
    def _plot_axis(self, axis_name):
        axes = self.geom.axes
        if axis_name is None:
            if not axes.is_unidimensional:
                raise ValueError("RegionNDMap.plot: several non-flat axes, give axis_name")
            return axes.primary_axis
        return axes[axis_name]

    def _plot_values(self, axis):
        data = self.quantity
        others = [ax.name for ax in self.geom.axes if ax.name != axis.name]
        if any(self.geom.axes[name].nbin > 1 for name in others):
            raise ValueError(
                f"RegionNDMap.plot: axes {others} must have one bin to plot along {axis.name!r}"
            )
        return data.reshape(axis.nbin) if data.size == axis.nbin else data.squeeze()

    def plot(self, ax=None, axis_name=None, **kwargs):
        """Errorbar plot of the values versus the axis (log x for log axes); returns ``ax``."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        axis = self._plot_axis(axis_name)
        y = self._plot_values(axis)
        kwargs.setdefault("marker", "None")
        kwargs.setdefault("ls", "None")
        x = axis.center.value
        xerr = None
        if axis.node_type == "edges":
            xerr = np.vstack([x - axis._edges[:-1], axis._edges[1:] - x])
        yerr = kwargs.pop("yerr", None)
        if isinstance(yerr, u.Quantity):
            yerr = yerr.to_value(y.unit)
        ax.errorbar(x, y.value, xerr=xerr, yerr=yerr, **kwargs)
        axis.format_plot_xaxis(ax)
        if y.unit != u.dimensionless_unscaled:
            ax.set_ylabel(f"Data [{y.unit.to_string()}]")
        return ax

    def plot_hist(self, ax=None, axis_name=None, **kwargs):
        """Step histogram of the values versus the axis edges; returns ``ax``."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        axis = self._plot_axis(axis_name)
        y = self._plot_values(axis)
        kwargs.setdefault("histtype", "step")
        kwargs.setdefault("lw", 1)
        ax.hist(axis.center.value, bins=axis._edges, weights=np.nan_to_num(y.value), **kwargs)
        axis.format_plot_xaxis(ax)
        if y.unit != u.dimensionless_unscaled:
            ax.set_ylabel(f"Data [{y.unit.to_string()}]")
        return ax

    def plot_mask(self, ax=None, axis_name=None, **kwargs):
        """Shade the axis ranges where the (boolean) map is True; returns ``ax``."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        axis = self._plot_axis(axis_name)
        mask = np.asarray(self._plot_values(axis).value, dtype=bool)
        kwargs.setdefault("color", "k")
        kwargs.setdefault("alpha", 0.05)
        edges = axis._edges
        # contiguous True runs -> one span each
        padded = np.concatenate([[False], mask, [False]])
        change = np.flatnonzero(np.diff(padded.astype(int)))
        starts, stops = change[::2], change[1::2]
        label = kwargs.pop("label", None)
        for i, (lo, hi) in enumerate(zip(starts, stops)):
            ax.axvspan(edges[lo], edges[hi], label=label if i == 0 else None, **kwargs)
        axis.format_plot_xaxis(ax)
        return ax

    def plot_region(self, ax=None, **kwargs):
        """Plot the region of the geometry (see `RegionGeom.plot_region`)."""
        return self.geom.plot_region(ax=ax, **kwargs)

    # ------------------------------------------------------------------ tables
    def _flat_data(self):
        """Data flattened in BANDS row order (first axis fastest)."""
        return self._data.reshape(-1)

    def to_table(self, format="gadf"):
        """Table of the data.

        Parameters
        ----------
        format : {"gadf", "ogip", "ogip-sherpa", "ogip-arf", "ogip-arf-sherpa"}
            "gadf": BANDS columns of the axes plus a DATA column (self-describing);
            "ogip": CHANNEL, COUNTS (spectrum); "ogip-arf": ENERG_LO, ENERG_HI,
            SPECRESP (cm2; m2 for "-sherpa").
        """
        if format == "gadf":
            table = axes_to_bands_table(self.geom.axes)
            table["DATA"] = u.Quantity(self._flat_data(), self._unit)
            return table
        axis = self.geom.axes["energy"] if format.startswith("ogip") and "energy" in self.geom.axes.names else self.geom.axes[0]
        if format in ("ogip", "ogip-sherpa"):
            table = Table()
            table["CHANNEL"] = np.arange(axis.nbin, dtype=np.int16)
            table["COUNTS"] = np.asarray(self._data).reshape(-1)
            return table
        if format in ("ogip-arf", "ogip-arf-sherpa"):
            table = axis.to_table(format="ogip-arf")
            unit = "m2" if format.endswith("sherpa") else "cm2"
            table["SPECRESP"] = self.quantity.reshape(-1).to(unit)
            return table
        raise ValueError(f"RegionNDMap.to_table: unknown format {format!r}")

    @classmethod
    def from_table(cls, table, format="gadf", colname=None):
        """RegionNDMap (without region) from a table written by `to_table`.

        "gadf" reads the axes from the BANDS columns; "ogip-arf" builds the
        energy_true axis from ENERG_LO/ENERG_HI and reads SPECRESP.
        """
        if format == "gadf":
            axes = axes_from_bands_table(table)
            colname = colname or "DATA"
            if colname not in table.colnames:
                raise KeyError(f"RegionNDMap.from_table: column {colname!r} not found ({table.colnames})")
            col = table[colname]
            geom = RegionGeom(region=None, axes=axes)
            data = np.asarray(col).reshape(geom.data_shape)
            return cls(geom, data=data, unit=col.unit or "")
        if format in ("ogip-arf", "ogip-arf-sherpa"):
            from .axes import MapAxis

            axis = MapAxis.from_table(table, format="ogip-arf")
            col = table[colname or "SPECRESP"]
            geom = RegionGeom(region=None, axes=[axis])
            return cls(geom, data=np.asarray(col, dtype=float).reshape(geom.data_shape), unit=col.unit or "")
        raise ValueError(f"RegionNDMap.from_table: unknown format {format!r} (ogip needs the EBOUNDS HDU: use read)")

    # ------------------------------------------------------------------ FITS
    def to_hdulist(self, format="gadf", hdu="SKYMAP", hdu_bands=None, hdu_region=None):
        """HDU list: primary, data table, axes (BANDS / EBOUNDS) and REGION.

        "gadf": ``hdu`` (data table), ``{hdu}_BANDS`` and ``{hdu}_REGION``;
        "ogip": SPECTRUM (CHANNEL, COUNTS), EBOUNDS and REGION.
        """
        hdus = [fits.PrimaryHDU()]
        if format == "gadf":
            hdu = hdu or "SKYMAP"
            hdu_bands = hdu_bands or f"{hdu}_BANDS"
            hdu_region = hdu_region or f"{hdu}_REGION"
            table = self.to_table(format="gadf")
            table_hdu = fits.BinTableHDU(table, name=hdu)
            table_hdu.header["BANDSHDU"] = hdu_bands
            hdus.append(table_hdu)
            geom_hdus = self.geom.to_hdulist(format="gadf", hdu_bands=hdu_bands, hdu_region=hdu_region)
        elif format in ("ogip", "ogip-sherpa"):
            table = self.to_table(format="ogip")
            spectrum = fits.BinTableHDU(table, name="SPECTRUM")
            spectrum.header["HDUCLASS"] = "OGIP"
            spectrum.header["HDUCLAS1"] = "SPECTRUM"
            spectrum.header["DETCHANS"] = len(table)
            hdus.append(spectrum)
            geom_hdus = self.geom.to_hdulist(format="ogip", hdu_region=hdu_region)
        elif format in ("ogip-arf", "ogip-arf-sherpa"):
            table = self.to_table(format=format)
            arf = fits.BinTableHDU(table, name="SPECRESP")
            arf.header["HDUCLASS"] = "OGIP"
            arf.header["HDUCLAS1"] = "RESPONSE"
            arf.header["HDUCLAS2"] = "SPECRESP"
            hdus.append(arf)
            geom_hdus = []
        else:
            raise ValueError(f"RegionNDMap.to_hdulist: unknown format {format!r}")
        hdus.extend(geom_hdus)
        return fits.HDUList(hdus)

    @classmethod
    def from_hdulist(cls, hdulist, format="gadf", ogip_column=None, hdu=None, colname=None, **kwargs):
        """RegionNDMap from HDUs written by `to_hdulist` (or OGIP PHA / ARF files).

        Parameters
        ----------
        format : {"gadf", "ogip", "ogip-arf"}
            Layout.
        ogip_column : str
            Column of the SPECTRUM HDU for "ogip" (COUNTS, QUALITY, BACKSCAL, AREASCAL).
        hdu : str
            Data HDU name ("SKYMAP" for gadf by default).
        """
        names = [h.name for h in hdulist]
        if format == "gadf":
            hdu = hdu or ("SKYMAP" if "SKYMAP" in names else None)
            if hdu is None:
                tables = [h.name for h in hdulist if isinstance(h, fits.BinTableHDU)
                          and not h.name.endswith(("_BANDS", "_REGION"))]
                if not tables:
                    raise KeyError(f"RegionNDMap: no data table HDU found (HDUs: {names})")
                hdu = tables[0]
            if hdu not in names:
                raise KeyError(f"RegionNDMap: HDU {hdu!r} not found (HDUs: {names})")
            table = Table.read(hdulist[hdu])
            result = cls.from_table(table, format="gadf", colname=colname)
            region_name = f"{hdu}_REGION"
            if region_name in names:
                region, wcs = _read_region_hdu(hdulist[region_name])
                geom = RegionGeom(region=region, axes=result.geom.axes, wcs=wcs)
                result = cls(geom, data=result.data, unit=result.unit)
            return result
        if format in ("ogip", "ogip-sherpa"):
            ogip_column = ogip_column or colname or "COUNTS"
            hdu = hdu or "SPECTRUM"
            if hdu not in names:
                raise KeyError(f"RegionNDMap: no {hdu!r} HDU (HDUs: {names})")
            geom = RegionGeom.from_hdulist(hdulist, format="ogip")
            table = Table.read(hdulist[hdu])
            if ogip_column not in table.colnames:
                raise KeyError(f"RegionNDMap: HDU {hdu!r} has no column {ogip_column!r} ({table.colnames})")
            values = np.asarray(table[ogip_column])
            if ogip_column == "QUALITY":
                values = values.astype(bool)
            unit = table[ogip_column].unit or ""
            return cls(geom, data=values.reshape(geom.data_shape), unit=unit)
        if format in ("ogip-arf", "ogip-arf-sherpa"):
            hdu = hdu or "SPECRESP"
            if hdu not in names:
                raise KeyError(f"RegionNDMap: no {hdu!r} HDU (HDUs: {names})")
            return cls.from_table(Table.read(hdulist[hdu]), format="ogip-arf", colname=colname)
        raise ValueError(f"RegionNDMap.from_hdulist: unknown format {format!r}")

    @classmethod
    def read(cls, filename, format="gadf", ogip_column=None, hdu=None, colname=None):
        """Read a region map (see `from_hdulist`)."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"RegionNDMap.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            return cls.from_hdulist(hdulist, format=format, ogip_column=ogip_column, hdu=hdu, colname=colname)

    def write(self, filename, overwrite=False, format="gadf", hdu="SKYMAP"):
        """Write to FITS (see `to_hdulist`); atomic, no overwrite unless asked."""
        super().write(filename, overwrite=overwrite, format=format, hdu=hdu)

    def __str__(self):
        text = super().__str__()
        region = self.geom.region
        return text + f"\tregion: {type(region).__name__ if region is not None else None}\n"
