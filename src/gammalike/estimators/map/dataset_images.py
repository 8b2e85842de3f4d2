"""Images of a map dataset per energy group: the inputs shared by the map estimators.

Pure helpers on float arrays (internal units) plus the few that read a
`~gammalike.datasets.MapDataset`:

- `energy_groups`: which reco-energy bins form each output energy bin;
- `group_sum`: sum of a cube over the bins of each group (one tensordot);
- `reference_counts`: predicted counts per pixel and reco bin of a source of
  the reference spectrum placed at that pixel (exposure x spectrum x energy
  dispersion: the "flux to counts" factor of the map estimators);
- `correlate`: sum of an image over a kernel footprint around every pixel.
"""
import numpy as np
from astropy import units as u

from ...irf.edisp_kernel import edisp_matrix_at
from ...maps import MapAxis

__all__ = ["energy_groups", "group_sum", "reference_counts", "correlate", "disk_kernel", "spectral_flux",
           "float_data"]

_EXPOSURE_UNIT = u.Unit("cm2 s")


def float_data(m):
    """Float64 array of a map (NaN -> 0); None passes through."""
    if m is None:
        return None
    data = np.array(m.data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if bad.any():
        data[bad] = 0.0
    return data


def energy_groups(energy_axis, energy_edges=None, sum_over_energy_groups=True):
    """Group the reco-energy bins of a dataset into the estimator's energy bins.

    A reco bin belongs to the group ``[e_lo, e_hi]`` when its log centre lies
    inside (so requested edges snap to the nearest dataset edges).

    Parameters
    ----------
    energy_axis : `~gammalike.maps.MapAxis`
        Reco-energy axis of the dataset.
    energy_edges : `~astropy.units.Quantity`, optional
        Requested edges (default: one group over the whole axis).
    sum_over_energy_groups : bool
        If False, every selected reco bin is its own group.

    Returns
    -------
    matrix : `~numpy.ndarray`, shape (n_groups, n_reco)
        1 where a reco bin belongs to a group.
    axis : `~gammalike.maps.MapAxis`
        Output energy axis (the dataset edges of the groups), named "energy".
    """
    edges = energy_axis.edges.to_value("TeV")
    centers = np.sqrt(edges[:-1] * edges[1:])
    if energy_edges is None:
        requested = edges[[0, -1]]
    else:
        requested = np.atleast_1d(u.Quantity(energy_edges).to_value("TeV")).astype(float)
        if requested.size < 2 or np.any(np.diff(requested) <= 0):
            raise ValueError(f"energy_edges must be at least two increasing energies, got {energy_edges}")
    groups = []
    for lo, hi in zip(requested[:-1], requested[1:]):
        inside = np.flatnonzero((centers >= lo) & (centers <= hi))
        if inside.size == 0:
            raise ValueError(
                f"energy group [{lo:.4g}, {hi:.4g}] TeV contains no reco-energy bin of the dataset "
                f"(edges {edges[0]:.4g} to {edges[-1]:.4g} TeV)"
            )
        if sum_over_energy_groups:
            groups.append(inside)
        else:
            groups.extend([np.array([i]) for i in inside])
    matrix = np.zeros((len(groups), centers.size))
    out_edges = [edges[groups[0][0]]]
    for i, idx in enumerate(groups):
        matrix[i, idx] = 1.0
        if not np.isclose(edges[idx[0]], out_edges[-1], rtol=1e-9):
            # gaps between groups: the axis needs its own bins; keep the dataset bounds
            raise ValueError("energy_edges: groups must be contiguous in the dataset energy bins")
        out_edges.append(edges[idx[-1] + 1])
    axis = MapAxis.from_energy_edges(u.Quantity(out_edges, "TeV"), name="energy")
    return matrix, axis


def group_sum(matrix, cube):
    """Sum a cube (n_reco, ny, nx) over the bins of each group -> (n_groups, ny, nx)."""
    return np.tensordot(matrix, cube, axes=(1, 0))


def spectral_flux(model, e_min, e_max):
    func = getattr(model, "integral_float", None)
    if func is not None:
        return np.asarray(func(e_min, e_max), dtype=np.float64)
    return u.Quantity(model.integral(e_min * u.TeV, e_max * u.TeV)).to_value("cm-2 s-1")


def edisp_weights(dataset, position=None):
    """Migration matrix ``(n_true, n_reco)`` of the dataset at ``position`` (default: map centre)."""
    geom = dataset.counts.geom
    if position is None:
        position = geom.center_skydir
    return edisp_matrix_at(dataset.edisp, position, geom.axes["energy"],
                           dataset.exposure.geom.axes["energy_true"])


def reference_counts(dataset, spectral_model, pdf=None):
    """Counts per pixel and reco bin of the reference spectrum at norm 1.

    ``sum_t flux_t * pdf[t, e] * exposure_t(p)``: a point source of the
    reference spectrum sitting on pixel ``p`` (all its counts, no PSF).

    Parameters
    ----------
    dataset : `~gammalike.datasets.MapDataset`
        Needs an exposure (axis energy_true, on the counts' pixels).
    spectral_model : spectral model
        Reference spectrum.
    pdf : `~numpy.ndarray`, optional
        Migration matrix (n_true, n_reco); default: the dataset's at the map centre.

    Returns
    -------
    counts : `~numpy.ndarray`, shape (n_reco, ny, nx)
    """
    exposure = dataset.exposure
    if exposure is None:
        raise ValueError(f"{dataset.name}: the reference counts need an exposure map")
    scale = u.Unit(exposure.unit).to(_EXPOSURE_UNIT) if exposure.unit != u.dimensionless_unscaled else 1.0
    data = float_data(exposure) * scale
    edges = exposure.geom.axes["energy_true"].edges.to_value("TeV")
    flux = spectral_flux(spectral_model, edges[:-1], edges[1:])
    if pdf is None:
        pdf = edisp_weights(dataset)
    weights = pdf * flux[:, None]  # (n_true, n_reco)
    return np.tensordot(weights, data, axes=(0, 0))


def disk_kernel(radius_pix):
    """Top-hat disk of ones: pixels whose centre is within ``radius_pix`` of the centre."""
    r = int(np.floor(radius_pix))
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (x ** 2 + y ** 2 <= radius_pix ** 2 * (1 + 1e-12)).astype(float)


#: Kernels up to this many pixels are applied directly (exact sums, no FFT round-off).
_DIRECT_MAX_PIXELS = 121


def correlate(images, kernel):
    """``out[p] = sum_o kernel[o] * images[p + o]`` for every image, zero outside the map.

    Parameters
    ----------
    images : `~numpy.ndarray`, shape (..., ny, nx)
    kernel : `~numpy.ndarray`, shape (..., ky, kx) with odd ky, kx
        Centred kernel: one for all images, or one per leading index.
    """
    from scipy import ndimage, signal

    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.shape[-2] % 2 == 0 or kernel.shape[-1] % 2 == 0:
        raise ValueError(f"correlate: kernel shape {kernel.shape[-2:]} must be odd")
    if kernel.ndim < images.ndim:
        kernel = kernel.reshape((1,) * (images.ndim - kernel.ndim) + kernel.shape)
    if kernel.shape[-2] * kernel.shape[-1] <= _DIRECT_MAX_PIXELS and kernel.shape[:-2] == (1,) * (kernel.ndim - 2):
        k2 = kernel.reshape(kernel.shape[-2:])
        flat = images.reshape((-1,) + images.shape[-2:])
        out = np.empty_like(flat)
        for i in range(flat.shape[0]):  # loop over energy groups, not pixels
            out[i] = ndimage.correlate(flat[i], k2, mode="constant", cval=0.0)
        return out.reshape(images.shape)
    flipped = kernel[..., ::-1, ::-1]
    out = signal.fftconvolve(images, flipped, mode="same", axes=(-2, -1))
    # FFT round-off: values that should be exactly zero come out ~1e-16 x the largest input
    scale = np.max(np.abs(images), axis=(-2, -1), keepdims=True) * np.sum(np.abs(flipped), axis=(-2, -1),
                                                                          keepdims=True)
    out[np.abs(out) <= 1e-12 * scale] = 0.0
    return out
