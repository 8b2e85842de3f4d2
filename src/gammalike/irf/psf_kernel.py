"""`PSFKernel`: a PSF convolution kernel on a map pixel grid, and the cube convolution.

A kernel is a `~gammalike.maps.WcsNDMap` with axes (energy_true, lat, lon):
one odd-sized, centred image per true-energy bin, each summing to one. The
fast path for model evaluation is `convolve_cube`, which convolves all energy
planes at once with FFTs.
"""
import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord

from ..maps import Map, WcsGeom

__all__ = ["PSFKernel", "convolve_cube"]


def convolve_cube(data, kernel, mode="same"):
    """Convolve the images of a cube with a kernel (per plane, all planes at once).

    Parameters
    ----------
    data : `~numpy.ndarray`
        Array of shape (..., ny, nx).
    kernel : `~numpy.ndarray`
        Kernel of shape (..., ky, kx): leading dimensions equal to those of
        ``data`` (one kernel per plane) or of size 1 / absent (same kernel for all).
    mode : {"same", "full", "valid"}
        Output size as in `scipy.signal.fftconvolve`; "same" keeps the data shape
        and, for an odd centred kernel, the pixel grid.

    Returns
    -------
    result : `~numpy.ndarray`
        Convolved array (float64).
    """
    from scipy import signal

    data = np.asarray(data, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim < data.ndim:
        kernel = kernel.reshape((1,) * (data.ndim - kernel.ndim) + kernel.shape)
    if kernel.ndim > data.ndim:
        raise ValueError(
            f"convolve_cube: kernel has more dimensions ({kernel.ndim}) than the data ({data.ndim})"
        )
    for nd, nk in zip(data.shape[:-2], kernel.shape[:-2]):
        if nk not in (1, nd):
            raise ValueError(
                f"convolve_cube: kernel leading shape {kernel.shape[:-2]} does not match data "
                f"{data.shape[:-2]}"
            )
    if data.size == 0:
        return data.copy()
    ky, kx = kernel.shape[-2:]
    if ky == 1 and kx == 1:
        return data * kernel
    # overlap-add is faster when the kernel is much smaller than the image
    ny, nx = data.shape[-2:]
    if mode == "same" and ky * kx * 16 < ny * nx and hasattr(signal, "oaconvolve"):
        result = signal.oaconvolve(data, kernel, mode=mode, axes=(-2, -1))
    else:
        result = signal.fftconvolve(data, kernel, mode=mode, axes=(-2, -1))
    # FFT round-off leaves tiny negative values (~1e-20) where the true result is
    # zero; remove them when both inputs are non-negative (predicted counts).
    if kernel.min() >= 0 and data.min() >= 0:
        np.maximum(result, 0, out=result)
    return result


def _odd_npix(max_radius_deg, binsz_deg):
    """Odd number of pixels covering ``max_radius`` on each side of the centre pixel.

    A radius within 0.1 % of a whole number of pixels is rounded to it (so that
    tiny local pixel-scale changes do not add a pixel ring).
    """
    half = int(np.ceil(max_radius_deg / binsz_deg * (1 - 1e-3)))
    return 2 * max(half, 1) + 1


def _kernel_geom(skydir, binsz, npix, frame, proj, axes):
    """WCS geometry of a kernel: odd ``npix`` (x, y), centred on ``skydir``."""
    return WcsGeom.create(
        skydir=skydir, binsz=binsz, npix=npix, frame=frame, proj=proj, axes=axes,
    )


def _energy_axis_of(geom):
    """The energy_true axis of ``geom`` (an "energy" axis renamed), or None."""
    names = geom.axes.names
    if "energy_true" in names:
        return geom.axes["energy_true"]
    if "energy" in names:
        return geom.axes["energy"].rename("energy_true")
    return None


def _binsz_xy(geom):
    scales = geom.pixel_scales.to_value("deg") if hasattr(geom, "pixel_scales") else None
    if scales is None:
        b = geom.binsz_wcs.to_value("deg") if hasattr(geom.binsz_wcs, "to_value") else float(geom.binsz_wcs)
        return float(b), float(b)
    return float(scales[0]), float(scales[1])


class PSFKernel:
    """PSF convolution kernel: one normalised, odd-sized, centred image per true energy.

    Parameters
    ----------
    psf_kernel_map : `~gammalike.maps.Map`
        Kernel map with axes (energy_true, lat, lon), or a 2D image.
    normalize : bool
        Normalise each image to unit sum.
    """

    def __init__(self, psf_kernel_map, normalize=True):
        if not isinstance(psf_kernel_map, Map):
            raise TypeError(f"PSFKernel: expected a Map, got {type(psf_kernel_map).__name__}")
        ny, nx = psf_kernel_map.data.shape[-2:]
        if ny % 2 == 0 or nx % 2 == 0:
            raise ValueError(f"PSFKernel: the kernel needs an odd number of pixels, got {(nx, ny)}")
        self._psf_kernel_map = psf_kernel_map
        if normalize:
            self.normalize()

    # ------------------------------------------------------------------ basics
    @property
    def psf_kernel_map(self):
        """Kernel map."""
        return self._psf_kernel_map

    @property
    def data(self):
        """Kernel data array (energy_true, ny, nx)."""
        return self._psf_kernel_map.data

    @property
    def energy_axis(self):
        """The energy_true axis of the kernel (None for a 2D kernel)."""
        return _energy_axis_of(self._psf_kernel_map.geom)

    def normalize(self):
        """Normalise each image to unit sum in place (empty images stay zero)."""
        data = np.asarray(self._psf_kernel_map.data, dtype=float)
        norm = data.sum(axis=(-2, -1), keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            data = np.where(norm > 0, data / norm, 0.0)
        self._psf_kernel_map = self._psf_kernel_map._init_copy(data=data, unit="")
        self.__dict__.pop("_fft_cache", None)

    def copy(self):
        return self.__class__(self._psf_kernel_map.copy(), normalize=False)

    def slice_by_idx(self, slices):
        """Kernel sliced along its energy axis (dict axis name -> int or slice)."""
        return self.__class__(self._psf_kernel_map.slice_by_idx(slices), normalize=False)

    def convolve(self, data, mode="same"):
        """Convolve an array (..., ny, nx) or a map with the kernel, plane by plane.

        For ``mode="same"`` the kernel's FFT is cached per data shape, so repeated
        convolutions (model evaluation in a fit) only transform the data.
        """
        if isinstance(data, Map):
            return data._init_copy(data=self.convolve(data.data, mode=mode))
        data = np.asarray(data, dtype=float)
        kernel = np.asarray(self.data, dtype=float)
        if mode != "same" or data.ndim < 2 or data.size == 0:
            return convolve_cube(data, kernel, mode=mode)
        from scipy import fft

        ny, nx = data.shape[-2:]
        ky, kx = kernel.shape[-2:]
        shape = (fft.next_fast_len(ny + ky - 1, real=True), fft.next_fast_len(nx + kx - 1, real=True))
        if kernel.ndim > 2 and kernel.shape[:-2] != data.shape[-kernel.ndim:-2]:
            return convolve_cube(data, kernel, mode=mode)
        cache = self.__dict__.setdefault("_fft_cache", {})
        kernel_fft = cache.get(shape)
        if kernel_fft is None:
            kernel_fft = fft.rfft2(kernel, s=shape, axes=(-2, -1))
            if len(cache) > 8:
                cache.clear()
            cache[shape] = kernel_fft
        full = fft.irfft2(fft.rfft2(data, s=shape, axes=(-2, -1)) * kernel_fft, s=shape, axes=(-2, -1))
        sy, sx = (ky - 1) // 2, (kx - 1) // 2
        result = full[..., sy:sy + ny, sx:sx + nx]
        if kernel.min() >= 0 and data.min() >= 0:
            result = np.maximum(result, 0)
        return np.ascontiguousarray(result)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, filename, **kwargs):
        """Read a kernel map (see `Map.read`)."""
        return cls(Map.read(filename, **kwargs), normalize=False)

    def write(self, filename, overwrite=False, **kwargs):
        """Write the kernel map (see `Map.write`)."""
        self._psf_kernel_map.write(filename, overwrite=overwrite, **kwargs)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_gauss(cls, geom, sigma, max_radius=None, containment_fraction=0.99):
        """Gaussian kernel: each pixel gets the exact Gaussian integral over its area.

        Parameters
        ----------
        geom : `~gammalike.maps.WcsGeom`
            Geometry giving the pixel size, frame, projection and (optional)
            energy axis of the kernel.
        sigma : `~astropy.coordinates.Angle` (scalar or one per energy bin)
            Gaussian width.
        max_radius : `~astropy.coordinates.Angle`, optional
            Kernel half-width; default the radius containing ``containment_fraction``
            of the widest Gaussian, ``sigma * sqrt(-2 ln(1 - fraction))``.
        containment_fraction : float
            Containment used for the default ``max_radius``.
        """
        from scipy.special import ndtr

        axis = _energy_axis_of(geom)
        n_e = axis.nbin if axis is not None else 1
        sigma = np.atleast_1d(Angle(sigma).to_value("deg")).astype(float)
        if sigma.size not in (1, n_e):
            raise ValueError(f"PSFKernel.from_gauss: sigma has {sigma.size} values, expected 1 or {n_e}")
        sigma = np.broadcast_to(sigma, (n_e,))
        if max_radius is None:
            max_radius = sigma.max() * np.sqrt(-2 * np.log(1 - containment_fraction))
        else:
            max_radius = Angle(max_radius).to_value("deg")
        bx, by = _binsz_xy(geom)
        nx, ny = _odd_npix(max_radius, bx), _odd_npix(max_radius, by)
        # separable exact pixel integrals of the 2D Gaussian
        kx = np.arange(nx) - nx // 2
        ky = np.arange(ny) - ny // 2
        s = sigma[:, None]
        px = ndtr((kx + 0.5) * bx / s) - ndtr((kx - 0.5) * bx / s)
        py = ndtr((ky + 0.5) * by / s) - ndtr((ky - 0.5) * by / s)
        data = py[:, :, None] * px[:, None, :]
        axes = [axis] if axis is not None else None
        if axis is None:
            data = data[0]
        kgeom = _kernel_geom(
            _center(geom), (bx, by), (nx, ny), geom.frame, _projection(geom), axes
        )
        return cls(Map.from_geom(kgeom, data=data, dtype=float), normalize=True)

    @classmethod
    def from_spatial_model(cls, model, geom, max_radius=None, factor=4):
        """Kernel from a spatial model (e.g. a Gaussian or disk), oversampled by ``factor``.

        Parameters
        ----------
        model : spatial model
            Any object with ``position`` and ``evaluate_geom(geom)`` (values in sr-1)
            or ``integrate_geom(geom)``; an ``evaluation_radius`` sets the default size.
        geom : `~gammalike.maps.WcsGeom`
            Pixel size, frame, projection and energy axis of the kernel.
        max_radius : `~astropy.coordinates.Angle`, optional
            Kernel half-width (default: the model's ``evaluation_radius``, else 5 pixels).
        factor : int
            Oversampling factor.
        """
        bx, by = _binsz_xy(geom)
        if max_radius is None:
            radius = getattr(model, "evaluation_radius", None)
            max_radius = Angle(radius).to_value("deg") if radius is not None else 5 * max(bx, by)
        else:
            max_radius = Angle(max_radius).to_value("deg")
        nx, ny = _odd_npix(max_radius, bx), _odd_npix(max_radius, by)
        position = getattr(model, "position", None)
        skydir = position if position is not None else _center(geom)
        image_geom = _kernel_geom(skydir, (bx, by), (nx, ny), geom.frame, _projection(geom), None)
        factor = int(factor)
        fine = image_geom.upsample(factor)
        if hasattr(model, "integrate_geom"):
            values = model.integrate_geom(fine)
        else:
            values = model.evaluate_geom(fine) * fine.solid_angle()
        values = np.asarray(getattr(values, "data", u.Quantity(values).value), dtype=float)
        values = values.reshape(values.shape[-2:])
        image = values.reshape(ny, factor, nx, factor).sum(axis=(1, 3))
        axis = _energy_axis_of(geom)
        if axis is not None:
            kgeom = image_geom.to_cube([axis])
            data = np.broadcast_to(image, kgeom.data_shape).copy()
        else:
            kgeom, data = image_geom, image
        return cls(Map.from_geom(kgeom, data=data, dtype=float), normalize=True)

    # ------------------------------------------------------------------ reductions
    def to_image(self, spectrum=None, exposure=None, keepdims=True):
        """Energy-averaged 2D kernel, weighted by spectrum x exposure per energy bin.

        Parameters
        ----------
        spectrum : spectral model, optional
            Object with ``integral(energy_min, energy_max)``; default a power law
            of index 2 (closed-form bin integrals ``1/E_lo - 1/E_hi``).
        exposure : array-like or `~astropy.units.Quantity`, optional
            Exposure per true-energy bin (default 1).
        keepdims : bool
            Keep a one-bin energy axis.
        """
        axis = self.energy_axis
        if axis is None:
            return self.copy()
        edges = axis.edges.to_value("TeV")
        if spectrum is None:
            weights = 1.0 / edges[:-1] - 1.0 / edges[1:]
        else:
            integral = spectrum.integral(
                energy_min=u.Quantity(edges[:-1], "TeV"), energy_max=u.Quantity(edges[1:], "TeV")
            )
            weights = np.asarray(u.Quantity(integral).value, dtype=float)
        if exposure is not None:
            exposure = np.asarray(u.Quantity(exposure).value, dtype=float).ravel()
            if exposure.size not in (1, axis.nbin):
                raise ValueError(
                    f"PSFKernel.to_image: exposure has {exposure.size} values, expected {axis.nbin}"
                )
            weights = weights * exposure
        total = weights.sum()
        if total <= 0:
            raise ValueError("PSFKernel.to_image: the spectrum x exposure weights sum to zero")
        weights = weights / total
        data = np.tensordot(weights, np.asarray(self.data, dtype=float), axes=(0, 0))
        geom = self._psf_kernel_map.geom
        name = "energy_true" if "energy_true" in geom.axes.names else "energy"
        if keepdims:
            new_geom = geom.squash(name)
            data = data[None]
        else:
            new_geom = geom.drop(name)
        return self.__class__(Map.from_geom(new_geom, data=data, dtype=float), normalize=True)

    def containment(self, rad):
        """Fraction of the kernel within ``rad`` of the centre (pixel centres inside), per energy."""
        geom = self._psf_kernel_map.geom
        bx, by = _binsz_xy(geom)
        ny, nx = self.data.shape[-2:]
        y, x = np.mgrid[:ny, :nx]
        r = np.hypot((x - nx // 2) * bx, (y - ny // 2) * by)
        rad = np.atleast_1d(Angle(rad).to_value("deg"))
        inside = r[None] <= rad[:, None, None]
        data = np.asarray(self.data, dtype=float)
        if data.ndim == 2:
            data = data[None]
        return np.einsum("eyx,ryx->er", data, inside.astype(float))

    # ------------------------------------------------------------------ plots
    def plot_kernel(self, ax=None, energy=None, add_cbar=False, **kwargs):
        """Image of the kernel at ``energy`` (nearest bin; default: the energy-summed image).

        Axes show the offset from the centre in deg. Returns the matplotlib axes.
        """
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        data = np.asarray(self.data, dtype=float)
        axis = self.energy_axis
        title = ""
        if data.ndim == 3:
            if energy is not None and axis is not None:
                idx = int(axis.coord_to_idx(u.Quantity(energy), clip=True))
                data = data[idx]
                title = f"energy_true = {axis.center[idx]:.3g}"
            else:
                data = data.mean(axis=0)
        bx, by = _binsz_xy(self._psf_kernel_map.geom)
        ny, nx = data.shape
        extent = [-(nx / 2) * bx, (nx / 2) * bx, -(ny / 2) * by, (ny / 2) * by]
        kwargs.setdefault("origin", "lower")
        kwargs.setdefault("cmap", "afmhot")
        kwargs.setdefault("interpolation", "nearest")
        im = ax.imshow(data, extent=extent, **kwargs)
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label="Kernel value")
        ax.set_xlabel("Offset x [deg]")
        ax.set_ylabel("Offset y [deg]")
        if title:
            ax.set_title(title)
        return ax

    def peek(self, figsize=(15, 5)):
        """Kernel images at the lowest, middle and highest energy."""
        import matplotlib.pyplot as plt

        axis = self.energy_axis
        fig, axes = plt.subplots(1, 3, figsize=figsize)
        if axis is None or self.data.ndim == 2:
            for ax in axes:
                self.plot_kernel(ax=ax, add_cbar=True)
        else:
            for ax, idx in zip(axes, (0, axis.nbin // 2, axis.nbin - 1)):
                self.plot_kernel(ax=ax, energy=axis.center[idx], add_cbar=True)
        plt.tight_layout()
        return axes

    def __str__(self):
        ny, nx = self.data.shape[-2:]
        axis = self.energy_axis
        n_e = axis.nbin if axis is not None else 1
        bx, _ = _binsz_xy(self._psf_kernel_map.geom)
        return (
            f"PSFKernel\n---------\n\n  npix        : {nx} x {ny}\n  binsz       : {bx:.4g} deg\n"
            f"  energy bins : {n_e}\n"
        )

    def __repr__(self):
        return f"PSFKernel(shape={self.data.shape})"


def _center(geom):
    return geom.center_skydir if hasattr(geom, "center_skydir") else SkyCoord(0, 0, unit="deg")


def _projection(geom):
    return getattr(geom, "projection", "TAN") or "TAN"
