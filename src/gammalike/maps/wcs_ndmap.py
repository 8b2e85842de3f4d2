"""`WcsNDMap`: map data on a `WcsGeom` (sky images and cubes)."""
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle
from astropy.io import fits

from ..utils import make_path
from .core import Map
from .wcs import WcsGeom
from .wcs_io import wcs_map_from_hdulist, wcs_map_to_hdulist

__all__ = ["WcsNDMap"]

log = logging.getLogger(__name__)


class WcsNDMap(Map):
    """Map on a `WcsGeom`: data of shape ``axes.data_shape + (ny, nx)``.

    Parameters
    ----------
    geom : `WcsGeom`
        Geometry.
    data : `~numpy.ndarray`, optional
        Data (zeros of ``dtype`` if None).
    dtype : str
        Data type when ``data`` is None.
    meta : dict, optional
        Metadata.
    unit : str or `~astropy.units.Unit`
        Data unit.
    """

    tag = "wcs"

    def __init__(self, geom, data=None, dtype="float32", meta=None, unit=""):
        if not isinstance(geom, WcsGeom):
            raise TypeError(f"WcsNDMap: expected a WcsGeom, got {type(geom).__name__}")
        super().__init__(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    @classmethod
    def create(cls, npix=None, binsz=0.1, proj="CAR", frame="icrs", refpix=None, axes=None,
               skydir=None, width=None, dtype="float32", meta=None, unit="", data=None, **kwargs):
        """Map on ``WcsGeom.create(...)`` (same arguments), filled with zeros or ``data``."""
        if kwargs:
            raise TypeError(f"WcsNDMap.create: unexpected arguments {sorted(kwargs)}")
        geom = WcsGeom.create(
            npix=npix, binsz=binsz, proj=proj, frame=frame, refpix=refpix, axes=axes,
            skydir=skydir, width=width,
        )
        return cls(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    @classmethod
    def from_geom(cls, geom, meta=None, data=None, unit="", dtype="float32", **kwargs):
        return cls(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    # ------------------------------------------------------------------ FITS
    def to_hdulist(self, hdu=None, hdu_bands=None, sparse=False, format="gadf"):
        """HDU list: image in PRIMARY (``hdu=None``) or in HDU ``hdu``, axes in BANDS."""
        return wcs_map_to_hdulist(self, hdu=hdu, hdu_bands=hdu_bands, sparse=sparse, format=format)

    @classmethod
    def from_hdulist(cls, hdulist, hdu=None, hdu_bands=None, format=None, **kwargs):
        """Map from an HDU list (first image HDU if ``hdu`` is None)."""
        return wcs_map_from_hdulist(cls, hdulist, hdu=hdu, hdu_bands=hdu_bands, format=format)

    @classmethod
    def read(cls, filename, hdu=None, hdu_bands=None, format=None, **kwargs):
        """Read a WCS map from a FITS file."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"WcsNDMap.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            return wcs_map_from_hdulist(cls, hdulist, hdu=hdu, hdu_bands=hdu_bands, format=format,
                                        filename=str(path))

    def write(self, filename, overwrite=False, hdu=None, hdu_bands=None, format="gadf", **kwargs):
        """Write to FITS (atomic; refuses to overwrite unless ``overwrite``)."""
        super().write(filename, overwrite=overwrite, hdu=hdu, hdu_bands=hdu_bands, format=format)

    # ------------------------------------------------------------------ spatial operations
    def fill_events(self, events, weights=None):
        """Histogram events (``radec`` and ``energy`` attributes) into the map."""
        coords = {"skycoord": events.radec}
        for ax in self.geom.axes:
            coords[ax.name] = events.energy if ax.name == "energy" else getattr(events, ax.name)
        self.fill_by_coord(coords, weights=weights)

    def cutout(self, position, width, mode="trim", odd_npix=False, fill_value=np.nan):
        """Cutout around ``position`` (see `WcsGeom.cutout`); outside pixels are ``fill_value``
        for mode="partial"."""
        geom, (parent, child) = self.geom._cutout_slices(position, width, mode=mode, odd_npix=odd_npix)
        lead = (slice(None),) * len(self.geom.axes)
        if mode == "trim":
            data = self.data[lead + parent].copy()
        else:
            if self.is_mask:
                fill_value, dtype = False, bool
            else:
                dtype = np.result_type(self.data.dtype, np.asarray(fill_value).dtype)
            data = np.full(geom.data_shape, fill_value, dtype=dtype)
            data[lead + child] = self.data[lead + parent]
        return self._init_copy(geom=geom, data=data)

    def stack(self, other, weights=None, nan_to_num=True):
        """Add ``other`` in place; ``other`` may be a pixel-aligned cutout of this map."""
        if self.geom.data_shape == other.geom.data_shape and (
            not isinstance(other.geom, WcsGeom) or self.geom.is_allclose(other.geom)
        ):
            return super().stack(other, weights=weights, nan_to_num=nan_to_num)
        if not isinstance(other.geom, WcsGeom) or not self.geom.is_aligned(other.geom):
            raise ValueError("WcsNDMap.stack: geometries are neither equal nor pixel-aligned")
        if self.geom.axes.shape != other.geom.axes.shape:
            raise ValueError("WcsNDMap.stack: non-spatial axes differ")
        shift = np.round(self.geom.wcs.wcs.crpix - other.geom.wcs.wcs.crpix).astype(int)
        nx, ny = other.geom.npix
        # other's pixel (0, 0) sits at self's pixel (shift_x, shift_y)
        x0, y0 = shift
        xs = slice(max(x0, 0), min(x0 + nx, self.geom.npix[0]))
        ys = slice(max(y0, 0), min(y0 + ny, self.geom.npix[1]))
        if xs.stop <= xs.start or ys.stop <= ys.start:
            return
        oxs = slice(xs.start - x0, xs.stop - x0)
        oys = slice(ys.start - y0, ys.stop - y0)
        lead = (slice(None),) * len(self.geom.axes)
        data = other.quantity.to_value(self.unit)[lead + (oys, oxs)]
        if nan_to_num:
            data = np.nan_to_num(data)
        if weights is not None:
            w = weights.data if isinstance(weights, Map) else np.asarray(weights)
            data = data * w[lead + (oys, oxs)]
        self.data[lead + (ys, xs)] += data.astype(self.data.dtype, copy=False)

    def pad(self, pad_width, mode="constant", cval=0, axis_name=None):
        """Map padded by ``pad_width`` pixels on each side (spatial) or along ``axis_name``."""
        if axis_name is not None:
            raise NotImplementedError("WcsNDMap.pad: padding of non-spatial axes is not supported")
        px, py = (pad_width, pad_width) if np.isscalar(pad_width) else pad_width
        geom = self.geom.pad((px, py))
        widths = [(0, 0)] * len(self.geom.axes) + [(py, py), (px, px)]
        kwargs = {"constant_values": cval} if mode == "constant" else {}
        data = np.pad(self.data, widths, mode=mode, **kwargs)
        return self._init_copy(geom=geom, data=data)

    def downsample(self, factor, preserve_counts=True, axis_name=None, weights=None):
        """Spatial block sum (mean if not preserve_counts), or downsample a non-spatial axis."""
        if axis_name is not None:
            return super().downsample(factor, preserve_counts=preserve_counts, axis_name=axis_name, weights=weights)
        factor = int(factor)
        geom = self.geom.downsample(factor)
        data = self.data if weights is None else self.data * np.asarray(getattr(weights, "data", weights))
        shape = data.shape[:-2] + (data.shape[-2] // factor, factor, data.shape[-1] // factor, factor)
        func = np.sum if preserve_counts else np.mean
        if self.is_mask:
            func = np.any
        return self._init_copy(geom=geom, data=func(data.reshape(shape), axis=(-3, -1)))

    def upsample(self, factor, order=0, preserve_counts=True, axis_name=None):
        """Spatial upsampling by pixel repetition (order 0), divided by factor**2 if preserve_counts."""
        if axis_name is not None:
            return super().upsample(factor, order=order, preserve_counts=preserve_counts, axis_name=axis_name)
        factor = int(factor)
        geom = self.geom.upsample(factor)
        if order == 0:
            data = np.repeat(np.repeat(self.data, factor, axis=-1), factor, axis=-2)
        else:
            coords = geom.get_coord()
            data = self.interp_by_coord(coords, method="linear")
        if preserve_counts and not self.is_mask:
            data = data / factor**2
        return self._init_copy(geom=geom, data=data)

    def interp_to_geom(self, geom, preserve_counts=False, fill_value=0, method="linear", **kwargs):
        """Interpolate onto another geometry (values scaled by pixel area if preserve_counts)."""
        coords = geom.get_coord()
        data = self.interp_by_coord(coords, method=method, fill_value=fill_value, **kwargs)
        if preserve_counts:
            data = data * (geom.solid_angle() / self.geom.solid_angle().mean()).to_value("")
        return Map.from_geom(geom, data=data, unit=self.unit, dtype=data.dtype)

    def to_region_nd_map(self, region=None, func=np.nansum, weights=None, method="nearest"):
        """`RegionNDMap` of the values inside ``region`` reduced with ``func`` (sum by default).

        Point regions (and ``region=None`` on a single pixel) take the value at the
        position (interpolated with ``method``); ``region=None`` uses the whole image.
        """
        from .region import RegionGeom, _is_point_region, parse_region
        from .region_ndmap import RegionNDMap

        region = parse_region(region)
        if region is None:
            mask = np.ones(self.geom.data_shape[-2:], dtype=bool)
            geom = RegionGeom(None, axes=self.geom.axes)
        elif _is_point_region(region):
            geom = RegionGeom(region, axes=self.geom.axes)
            coords = geom.get_coord()
            data = self.interp_by_coord(coords, method=method, fill_value=np.nan)
            return RegionNDMap(geom, data=data.reshape(geom.data_shape), unit=self.unit)
        else:
            geom = RegionGeom(region, axes=self.geom.axes)
            mask = self.geom._region_mask_image([region])
        data = self.data if weights is None else self.data * np.asarray(getattr(weights, "data", weights))
        values = func(data[..., mask], axis=-1)
        return RegionNDMap(geom, data=np.asarray(values).reshape(geom.data_shape), unit=self.unit)

    def get_spectrum(self, region=None, func=np.nansum, weights=None):
        """Spectrum in a region (alias of `to_region_nd_map`)."""
        return self.to_region_nd_map(region=region, func=func, weights=weights)

    def _kernel_pix(self, width):
        """Width in pixels of an angle (Quantity / Angle / str) or a pixel number."""
        if isinstance(width, (str, u.Quantity)):
            return Angle(width).deg / self.geom.binsz
        return float(width)

    def smooth(self, width, kernel="gauss", **kwargs):
        """Spatially smoothed copy.

        Parameters
        ----------
        width : Angle, str or float
            Gaussian sigma, disk radius or box width (float = pixels).
        kernel : {"gauss", "disk", "box"}
            Kernel shape (normalised to unit sum).
        """
        from scipy import ndimage, signal

        width_pix = self._kernel_pix(width)
        data = np.nan_to_num(np.asarray(self.data, dtype=float))
        if kernel == "gauss":
            sigma = [0] * len(self.geom.axes) + [width_pix, width_pix]
            smoothed = ndimage.gaussian_filter(data, sigma, mode="constant", cval=0.0, truncate=4.0)
        elif kernel in ("disk", "box"):
            if kernel == "disk":
                r = int(np.ceil(width_pix))
                y, x = np.mgrid[-r:r + 1, -r:r + 1]
                k = (x**2 + y**2 <= width_pix**2).astype(float)
            else:
                n = max(int(np.round(width_pix)), 1)
                k = np.ones((n, n))
            k /= k.sum()
            k = k.reshape((1,) * len(self.geom.axes) + k.shape)
            smoothed = signal.fftconvolve(data, k, mode="same", axes=(-2, -1))
        else:
            raise ValueError(f"smooth: unknown kernel {kernel!r}, expected 'gauss', 'disk' or 'box'")
        return self._init_copy(data=smoothed.astype(self.data.dtype if self.data.dtype.kind == "f" else float))

    def convolve(self, kernel, method="fft", mode="same"):
        """Convolve each image with a kernel image (ndarray, Map, or object with ``psf_kernel_map``).

        A kernel with the same non-spatial axes is applied plane by plane; a 2D
        kernel is applied to every plane.
        """
        from scipy import signal

        kmap = getattr(kernel, "psf_kernel_map", kernel)
        kdata = np.asarray(kmap.data if isinstance(kmap, Map) else kmap, dtype=float)
        data = np.asarray(self.data, dtype=float)
        if kdata.ndim == 2:
            kdata = kdata.reshape((1,) * (data.ndim - 2) + kdata.shape)
        elif kdata.shape[:-2] != data.shape[:-2]:
            raise ValueError(
                f"convolve: kernel non-spatial shape {kdata.shape[:-2]} does not match map {data.shape[:-2]}"
            )
        if method == "fft":
            result = signal.fftconvolve(data, kdata, mode=mode, axes=(-2, -1))
        else:
            from scipy import ndimage

            result = np.empty_like(data)
            for idx in np.ndindex(*data.shape[:-2]):
                kidx = tuple(i if n > 1 else 0 for i, n in zip(idx, kdata.shape[:-2]))
                result[idx] = ndimage.convolve(data[idx], kdata[kidx][::-1, ::-1], mode="constant")
        return self._init_copy(data=result)

    def mask_nearest_position(self, position):
        """Boolean map, True only at the pixel nearest to ``position``."""
        sep = self.geom.separation(position)
        mask = np.zeros(sep.shape, dtype=bool)
        mask[np.unravel_index(np.argmin(sep), sep.shape)] = True
        return self._init_copy(data=np.broadcast_to(mask, self.geom.data_shape).copy(), unit="")

    # ------------------------------------------------------------------ plotting
    def _image_data(self):
        data = self.data
        if data.ndim > 2:
            if all(n == 1 for n in data.shape[:-2]):
                data = data.reshape(data.shape[-2:])
            else:
                raise ValueError(
                    "WcsNDMap.plot: the map has non-spatial axes with several bins; use "
                    "reduce_over_axes(), get_image_by_idx() or plot_grid()"
                )
        if data.dtype == bool:
            data = data.astype(int)
        return data

    def plot(self, ax=None, fig=None, add_cbar=False, stretch="linear", axes_loc=None,
             kwargs_colorbar=None, **kwargs):
        """Plot the image on WCSAxes (created if needed); returns the axes (with ``ax.wcs``).

        Parameters
        ----------
        ax : `~astropy.visualization.wcsaxes.WCSAxes`, optional
            Axes (default: a new one on ``fig`` or the current figure).
        fig : `~matplotlib.figure.Figure`, optional
            Figure for new axes.
        add_cbar : bool
            Add a colour bar (labelled with the unit) attached to the image.
        stretch : {"linear", "sqrt", "log", ...}
            Colour stretch (`astropy.visualization.simple_norm`).
        axes_loc : dict, optional
            Placement of the colour bar (`append_axes` of
            `mpl_toolkits.axes_grid1`; default right, size "5%", pad "2%").
        kwargs_colorbar : dict, optional
            Passed to `~matplotlib.figure.Figure.colorbar` (e.g. ``label``).
        **kwargs
            Passed to `~matplotlib.axes.Axes.imshow` (``vmin`` / ``vmax`` set the norm).
        """
        import matplotlib.pyplot as plt
        from astropy.visualization import simple_norm
        from astropy.visualization.wcsaxes import WCSAxes

        if ax is None:
            fig = plt.gcf() if fig is None else fig
            ax = fig.add_subplot(projection=self.geom.wcs)
        elif not isinstance(ax, WCSAxes):
            raise TypeError("WcsNDMap.plot: ax must be a WCSAxes (projection=geom.wcs)")
        data = self._image_data()
        kwargs.setdefault("interpolation", "nearest")
        kwargs.setdefault("origin", "lower")
        kwargs.setdefault("cmap", "afmhot" if data.dtype.kind == "f" else "gray")
        if "norm" not in kwargs:
            finite = np.isfinite(data)
            vmin = kwargs.pop("vmin", None)
            vmax = kwargs.pop("vmax", None)
            if finite.any():
                kwargs["norm"] = simple_norm(
                    data[finite], stretch=stretch, vmin=vmin, vmax=vmax,
                )
        im = ax.imshow(data, **kwargs)
        if add_cbar:
            self._add_colorbar(im, ax, axes_loc, kwargs_colorbar)
        self._format_wcs_axes(ax)
        return ax

    def _add_colorbar(self, im, ax, axes_loc=None, kwargs_colorbar=None):
        """Colour bar in an axes appended to the image (`make_axes_locatable`).

        The bar sits next to the image (not at the edge of the axes box), and
        room for its tick labels and label is reserved inside the box: the
        image shrinks rather than the label running into a neighbouring panel.
        """
        from matplotlib.axes import Axes
        from mpl_toolkits.axes_grid1 import make_axes_locatable
        from mpl_toolkits.axes_grid1.axes_size import Fixed

        loc = {"position": "right", "size": "5%", "pad": "2%", **(axes_loc or {})}
        cbar_kwargs = dict(kwargs_colorbar or {})
        cbar_kwargs.setdefault("label", self._unit_label())
        divider = make_axes_locatable(ax)
        cax = divider.append_axes(axes_class=Axes, **loc)
        # tick labels (~0.4 inch) and, when there is one, the label (~0.25 inch)
        divider.append_size(loc["position"], Fixed(0.4 + (0.25 if cbar_kwargs["label"] else 0.0)))
        if loc["position"] in ("top", "bottom"):
            cbar_kwargs.setdefault("orientation", "horizontal")
        cbar = ax.figure.colorbar(im, cax=cax, **cbar_kwargs)
        if loc["position"] == "top":
            cax.xaxis.set_ticks_position("top")
            cax.xaxis.set_label_position("top")
        return cbar

    def _unit_label(self):
        if self.unit == u.dimensionless_unscaled:
            return ""
        return self.unit.to_string("latex_inline")

    def _format_wcs_axes(self, ax):
        if self.geom.frame == "galactic":
            xlabel, ylabel = "Galactic Longitude", "Galactic Latitude"
        else:
            xlabel, ylabel = "Right Ascension", "Declination"
        try:
            ax.coords[0].set_axislabel(xlabel)
            ax.coords[1].set_axislabel(ylabel)
            ax.coords[0].set_major_formatter("d.d")
            ax.coords[1].set_major_formatter("d.d")
        except (AttributeError, IndexError):
            pass
        ny, nx = self.geom.data_shape[-2:]
        ax.set_xlim(-0.5, nx - 0.5)
        ax.set_ylim(-0.5, ny - 0.5)

    def plot_grid(self, figsize=None, ncols=3, axis_name=None, **kwargs):
        """One panel per bin of the (single non-flat) non-spatial axis; returns the axes array."""
        import matplotlib.pyplot as plt

        axes = self.geom.axes
        axis = axes[axis_name] if axis_name is not None else axes.primary_axis
        nbin = axis.nbin
        ncols = min(ncols, nbin)
        nrows = int(np.ceil(nbin / ncols))
        if figsize is None:
            figsize = (ncols * 4, nrows * 4)
        fig, axs = plt.subplots(nrows=nrows, ncols=ncols, figsize=figsize,
                                subplot_kw={"projection": self.geom.wcs}, squeeze=False)
        labels = axis.as_plot_labels
        for idx, ax in enumerate(axs.flat):
            if idx >= nbin:
                ax.set_visible(False)
                continue
            image = self.slice_by_idx({axis.name: idx})
            image.plot(ax=ax, **kwargs)
            ax.set_title(f"{axis.name}: {labels[idx]}", fontsize=9)
        return axs

    def plot_interactive(self, rc_params=None, **kwargs):
        """Image with a slider per non-spatial axis and a choice of stretch.

        In a Jupyter kernel with ``ipywidgets`` installed this shows a widget
        (one slider per non-spatial axis, radio buttons for the stretch,
        default "sqrt").  Elsewhere (scripts, no ipywidgets) it draws a static
        image: the sum over the non-spatial axes, titled with their range and
        with a labelled colour bar.

        Parameters
        ----------
        rc_params : dict, optional
            Matplotlib rc parameters used for the widget's figures.
        **kwargs
            Passed to `plot` (e.g. ``add_cbar``, ``stretch``, ``vmin``).

        Returns
        -------
        widget or ax : `ipywidgets.interactive` or `~astropy.visualization.wcsaxes.WCSAxes`
        """
        if _widgets_available():
            import ipywidgets

            function, controls = self._interactive_controls(rc_params=rc_params, **kwargs)
            return ipywidgets.interact(function, **controls)
        log.info("plot_interactive: no ipywidgets / Jupyter kernel, plotting the summed image")
        return self._plot_summed(**kwargs)

    def _plot_summed(self, **kwargs):
        """Static `plot_interactive`: the image summed over the non-spatial axes."""
        axes = [axis for axis in self.geom.axes]
        image = self.reduce_over_axes() if axes else self
        if kwargs.get("add_cbar"):
            cbar = dict(kwargs.pop("kwargs_colorbar", None) or {})
            unit = self._unit_label()
            summed = "Sum over " + ", ".join(axis.name.replace("_", " ") for axis in axes)
            label = (f"{summed} [{unit}]" if unit else summed) if axes else unit
            cbar.setdefault("label", label)
            kwargs["kwargs_colorbar"] = cbar
        ax = image.plot(**kwargs)
        if axes:
            ax.set_title(", ".join(_axis_range_label(axis) for axis in axes))
        return ax

    def _interactive_controls(self, rc_params=None, **kwargs):
        """``(function, controls)`` for `ipywidgets.interact`: one
        `~ipywidgets.SelectionSlider` per non-spatial axis and stretch buttons."""
        import ipywidgets
        import matplotlib.pyplot as plt

        axes = list(self.geom.axes)
        controls = {}
        for axis in axes:
            controls[axis.name] = ipywidgets.SelectionSlider(
                options=list(zip(axis.as_plot_labels, range(axis.nbin))), value=0,
                description=f"Select {axis.name}:", continuous_update=False,
                style={"description_width": "initial"}, layout=ipywidgets.Layout(width="50%"),
            )
        controls["stretch"] = ipywidgets.RadioButtons(
            options=["linear", "sqrt", "log"], value=kwargs.pop("stretch", "sqrt"),
            description="Select stretch:", style={"description_width": "initial"},
        )

        def function(stretch, **selection):
            with plt.rc_context(rc=rc_params or {}):
                fig = plt.figure()
                image = self.slice_by_idx(selection) if selection else self
                ax = image.plot(fig=fig, stretch=stretch, **kwargs)
                ax.set_title(", ".join(f"{axis.name}: {axis.as_plot_labels[selection[axis.name]]}"
                                       for axis in axes))
                plt.show()
            return ax

        return function, controls

    def plot_mask(self, ax=None, **kwargs):
        """Contour of a boolean mask image; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.gcf().add_subplot(projection=self.geom.wcs)
        data = self._image_data().astype(float)
        kwargs.setdefault("colors", "w")
        kwargs.setdefault("levels", [0.5])
        ax.contour(data, **kwargs)
        self._format_wcs_axes(ax)
        return ax


def _widgets_available():
    """ipywidgets importable and running in a Jupyter kernel (where widgets display)."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _axis_range_label(axis):
    """``"energy 0.1 - 100 TeV"``: the whole range of a non-spatial axis."""
    name = axis.name.replace("_", " ")
    node_type = getattr(axis, "node_type", None)
    if node_type not in ("edges", "center"):  # label or time axes
        return f"{name} ({axis.nbin} bins)"
    values = axis.edges if node_type == "edges" else axis.center
    unit = values.unit.to_string() if values.unit != u.dimensionless_unscaled else ""
    lo, hi = values.value[0], values.value[-1]
    return f"{name} {lo:.3g} - {hi:.3g} {unit}".rstrip()
