"""`TemplateSpatialModel`: morphology (optionally energy dependent) from a WCS map."""
import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

from .spatial import SpatialModel, _geom_frame, _lonlat_values
from .spatial_integrate import geom_key, geom_lonlat, geom_solid_angle, integrate_image

__all__ = ["TemplateSpatialModel"]

_ENERGY_NAMES = ("energy_true", "energy")


class TemplateSpatialModel(SpatialModel):
    """Spatial template from a WCS map, optionally with an ``energy_true`` axis.

    Parameters
    ----------
    map : `~gammalike.maps.WcsNDMap`, optional
        Template (an axis named "energy" is renamed "energy_true").  If None,
        it is read from ``filename`` when first needed.
    meta : dict, optional
        Metadata.
    normalize : bool
        Divide each energy plane by its integral over the sky: the template
        then integrates to 1 (unit sr-1).  Otherwise the map values are used
        as they are, in the map's unit (or ``unit`` for a map without one),
        e.g. a diffuse model in cm-2 s-1 MeV-1 sr-1.
    interp_kwargs : dict, optional
        ``method`` ("linear" default, or "nearest") and ``values_scale``
        ("lin" default; "log" for energy-dependent templates).
    filename : str, optional
        Map file (``$GAMMAPY_DATA`` / ``$GAMMALIKE_DATA`` paths are kept
        unexpanded for YAML).
    copy_data : bool
        Copy the map (else the model may modify it when normalising).
    unit : str, optional
        Unit of map values for maps without one.
    frame : str, optional
        Ignored when a map is given (the map's frame is used).
    """

    tag = ["TemplateSpatialModel", "template"]

    def __init__(self, map=None, meta=None, normalize=True, interp_kwargs=None, filename=None,
                 copy_data=True, unit=None, frame=None):
        if map is None and filename is None:
            raise ValueError("TemplateSpatialModel: give a map or a filename")
        super().__init__(frame=frame or "icrs")
        self.filename = None if filename is None else str(filename)
        self.normalize = bool(normalize)
        self.unit = None if unit in (None, "") else u.Unit(unit)
        self.meta = dict(meta or {})
        self.interp_kwargs = dict(interp_kwargs or {})
        self._map = None
        self._cache = {}
        if map is not None:
            self._set_map(map.copy() if copy_data else map)

    @classmethod
    def read(cls, filename, normalize=True, **kwargs):
        """Template from a map file (read with `Map.read`)."""
        from ...maps import Map

        return cls(Map.read(filename), normalize=normalize, filename=filename, copy_data=False, **kwargs)

    # ------------------------------------------------------------------ map handling
    @property
    def map(self):
        """The template map (normalised if ``normalize``), read from ``filename`` if needed."""
        if self._map is None:
            from ...maps import Map

            try:
                m = Map.read(self.filename)
            except FileNotFoundError as exc:
                raise FileNotFoundError(f"TemplateSpatialModel: template map not found: {self.filename}") from exc
            self._set_map(m)
        return self._map

    def _set_map(self, m):
        geom = m.geom
        if "energy" in geom.axes.names and "energy_true" not in geom.axes.names:
            geom = geom.rename_axes(["energy"], ["energy_true"])
        if len(geom.axes) > 1 or (len(geom.axes) == 1 and geom.axes[0].name != "energy_true"):
            raise ValueError(
                f"TemplateSpatialModel: the map may only have an 'energy_true' axis, got {geom.axes.names}"
            )
        unit = m.unit
        if unit == u.dimensionless_unscaled and self.unit is not None:
            unit = self.unit
        data = np.array(m.data, dtype=float)
        if self.normalize:
            omega = geom_solid_angle(geom)
            integral = np.nansum(data * omega, axis=(-2, -1), keepdims=True)
            if np.any(integral <= 0):
                raise ValueError(
                    f"TemplateSpatialModel ({self.filename or 'map'}): cannot normalise a plane with "
                    "non-positive integral"
                )
            data = data / integral
            unit = u.Unit("sr-1")
        from ...maps import Map

        self._map = Map.from_geom(geom, data=data, unit=unit, meta=m.meta)
        self._data = data
        self._values_unit = unit
        self.frame = _geom_frame(geom)
        self._cache = {}

    @property
    def is_energy_dependent(self):
        return "energy_true" in self.map.geom.axes.names

    @property
    def position(self):
        """Centre of the template map."""
        return self.map.geom.center_skydir

    @property
    def position_lonlat(self):
        pos = self.position
        return float(pos.spherical.lon.deg), float(pos.spherical.lat.deg)

    @property
    def position_error(self):
        return None

    @property
    def evaluation_region(self):
        return None

    # ------------------------------------------------------------------ evaluation
    def _interp_values(self, lon, lat, energy_pix=None):
        """Template values at (lon, lat) in the template frame; leading energy dim if energy_pix."""
        from ...maps.interp import interp_data_by_pix

        geom = self.map.geom
        x, y = geom.wcs.wcs_world2pix(lon, lat, 0)
        method = self.interp_kwargs.get("method", "linear")
        scale = self.interp_kwargs.get("values_scale", "log" if self.is_energy_dependent else "lin")
        fill_value = self.interp_kwargs.get("fill_value", 0.0)
        if energy_pix is None:
            data = self._data.reshape(self._data.shape[-2:]) if self._data.ndim > 2 else self._data
            pix = [y, x]
        else:
            data = self._data
            energy_pix = np.asarray(energy_pix, dtype=float)
            pix = [energy_pix.reshape(energy_pix.shape + (1,) * np.ndim(x)), y, x]
        with np.errstate(invalid="ignore"):
            return interp_data_by_pix(data, pix, method=method, fill_value=fill_value, values_scale=scale)

    def _energy_pix(self, energy):
        axis = self.map.geom.axes["energy_true"]
        if not isinstance(energy, u.Quantity):
            energy = u.Quantity(energy, "TeV")
        return axis.coord_to_pix(energy)

    def evaluate(self, lon, lat, energy=None, method=None):
        """Template values at (lon, lat) (deg, template frame) and optional energy.

        For an energy-dependent template ``energy`` (Quantity, or floats in
        TeV) must broadcast with lon / lat.  Values are in `values_unit`.
        """
        kwargs = dict(self.interp_kwargs)
        if method is not None:
            self.interp_kwargs = dict(kwargs, method=method)
        try:
            if self.is_energy_dependent:
                if energy is None:
                    raise ValueError("TemplateSpatialModel: this template is energy dependent; give energy")
                epix = self._energy_pix(energy)
                lon, lat, epix = np.broadcast_arrays(lon, lat, epix)
                return self._interp_points(lon, lat, epix)
            return self._interp_values(lon, lat)
        finally:
            self.interp_kwargs = kwargs

    def _interp_points(self, lon, lat, epix):
        """Point-wise interpolation (energy, lon, lat of the same shape)."""
        from ...maps.interp import interp_data_by_pix

        x, y = self.map.geom.wcs.wcs_world2pix(lon, lat, 0)
        scale = self.interp_kwargs.get("values_scale", "log")
        with np.errstate(invalid="ignore"):
            return interp_data_by_pix(
                self._data, [epix, y, x], method=self.interp_kwargs.get("method", "linear"),
                fill_value=self.interp_kwargs.get("fill_value", 0.0), values_scale=scale,
            )

    @property
    def values_unit(self):
        """Unit of `evaluate` (sr-1 when normalised)."""
        self.map
        return self._values_unit

    def __call__(self, lon, lat=None, energy=None):
        lon, lat = _lonlat_values(lon, lat, self.frame)
        return u.Quantity(self.evaluate(lon, lat, energy=energy), self.values_unit)

    def _geom_energy_pix(self, geom):
        if "energy_true" not in geom.axes.names:
            raise ValueError(
                "TemplateSpatialModel: the template is energy dependent, the geometry needs an "
                f"'energy_true' axis (got {geom.axes.names})"
            )
        return self._energy_pix(geom.axes["energy_true"].center)

    def _template_lonlat(self, lon, lat, frame):
        if frame == self.frame:
            return lon, lat
        coord = SkyCoord(lon, lat, unit="deg", frame=frame).transform_to(self.frame)
        return coord.spherical.lon.deg, coord.spherical.lat.deg

    def evaluate_geom(self, geom):
        """Template values (Quantity in `values_unit`) at the pixel centres of ``geom``.

        Energy-dependent templates are evaluated at the centres of the geometry's
        ``energy_true`` axis: shape ``(n_energy, ny, nx)``.
        """
        lon, lat = geom_lonlat(geom, self.frame)
        if self.is_energy_dependent:
            values = self._interp_values(lon, lat, self._geom_energy_pix(geom))
            shape = geom.data_shape
        else:
            values = self._interp_values(lon, lat)
            shape = (1,) * len(geom.axes) + values.shape
        return u.Quantity(values.reshape(shape), self.values_unit)

    def integrate_image(self, geom, oversampling_factor=None):
        """Template integrated over the pixels of ``geom`` (floats, cached per geometry).

        Values times pixel solid angle: dimensionless fractions for a
        normalised template, else ``values_unit * sr``.  Shape (ny, nx), or
        (n_energy, ny, nx) for an energy-dependent template.  With an
        oversampling factor (default: the ratio of the target to the template
        pixel size when the target pixels are coarser), pixels are split into
        sub-pixels.
        """
        key = (geom_key(geom), oversampling_factor)
        if self.is_energy_dependent and "energy_true" in geom.axes.names:
            key += (tuple(geom.axes["energy_true"].edges.to_value("TeV")),)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        frame = _geom_frame(geom)
        energy_pix = self._geom_energy_pix(geom) if self.is_energy_dependent else None
        n = oversampling_factor
        if n is None:
            ratio = np.abs(geom.wcs.wcs.cdelt).max() / np.abs(self.map.geom.wcs.wcs.cdelt).min()
            n = int(np.clip(np.ceil(ratio - 1e-6), 1, 10))

        def func(lon, lat):
            lon, lat = self._template_lonlat(lon, lat, frame)
            return self._interp_values(lon, lat, energy_pix)

        image = integrate_image(func, geom, 0.0, 0.0, None, n, frame)
        image.flags.writeable = False
        if len(self._cache) > 16:
            self._cache.clear()
        self._cache[key] = image
        return image

    def integrate_geom(self, geom, oversampling_factor=None):
        """Template integrated over the pixels of ``geom`` (`Map` on ``geom``).

        Unit: dimensionless for a normalised template, ``values_unit * sr``
        otherwise (e.g. cm-2 s-1 MeV-1 for a diffuse model).
        """
        from ...maps import Map

        image = self.integrate_image(geom, oversampling_factor=oversampling_factor)
        unit = u.dimensionless_unscaled if self.normalize else self.values_unit * u.sr
        if self.is_energy_dependent:
            data = image.reshape(geom.data_shape).copy()
        else:
            data = np.broadcast_to(image, geom.data_shape).copy()
        return Map.from_geom(geom, data=data, unit=unit)

    # ------------------------------------------------------------------ regions / plot / YAML
    def to_region(self, **kwargs):
        """`~regions.RectangleSkyRegion` covering the template map."""
        from regions import RectangleSkyRegion

        width, height = self.map.geom.width
        return RectangleSkyRegion(center=self.position, width=width, height=height, **kwargs)

    def plot(self, ax=None, geom=None, **kwargs):
        """Image of the template on ``geom`` (default: the template's own pixels; energy-dependent
        templates are averaged over energy)."""
        from ...maps import Map

        if geom is None:
            geom = self.map.geom
        image = geom.to_image() if geom.axes else geom
        lon, lat = geom_lonlat(image, self.frame)
        if self.is_energy_dependent:
            values = self._interp_values(lon, lat, self._energy_pix(self.map.geom.axes["energy_true"].center))
            values = values.mean(axis=0)
        else:
            values = self._interp_values(lon, lat)
        m = Map.from_geom(image, data=values, unit=self.values_unit)
        return m.plot(ax=ax, **kwargs)

    def write(self, overwrite=False):
        """Write the template map to ``filename``."""
        if self.filename is None:
            raise ValueError("TemplateSpatialModel.write: no filename set")
        self.map.write(self.filename, overwrite=overwrite)

    def to_dict(self, full_output=False):
        data = {"type": self.type_name}
        if self.filename is not None:
            data["filename"] = self.filename
        data["normalize"] = self.normalize
        unit = self.unit if self.unit is not None else (
            None if self._map is None or self.normalize or self._values_unit == u.dimensionless_unscaled
            else self._values_unit)
        if unit is not None:
            data["unit"] = unit.to_string()
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "filename" not in data:
            raise KeyError("TemplateSpatialModel YAML: missing key 'filename'")
        return cls(
            filename=data["filename"],
            normalize=data.get("normalize", True),
            unit=data.get("unit"),
            frame=data.get("frame"),
        )

    def __str__(self):
        return f"{self.__class__.__name__}\n\n  filename  : {self.filename}\n  normalize : {self.normalize}"
