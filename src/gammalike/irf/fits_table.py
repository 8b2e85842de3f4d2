"""Fast reading of FITS binary tables held in memory.

DL3 files hold a handful of small binary tables (events, GTI, IRFs). Parsing
them through `astropy.io.fits` costs tens of milliseconds per file, mostly in
per-card header parsing and column objects. `FitsFile` scans the headers with
a minimal card parser and maps table rows with `numpy.frombuffer`. Anything
outside the simple subset (CONTINUE / HIERARCH cards, scaled columns,
variable-length or bit columns) falls back to astropy, so results are the same.
"""
import io
import re

import numpy as np
from astropy.io import fits
from astropy.table import Column, Table
import astropy.units as u

__all__ = ["FitsFile"]

_BLOCK = 2880
_CARD = 80
_TFORM = re.compile(r"^\s*(\d*)([LBIJKAED])\s*$")
_NUMPY_CODES = {"L": "S1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}


class _Unsupported(Exception):
    """Raised internally to fall back to astropy."""


def _parse_value(text):
    text = text.strip()
    if not text:
        return None
    if text[0] == "'":
        out, i = [], 1
        while i < len(text):
            char = text[i]
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(char)
            i += 1
        return "".join(out).rstrip()
    token = text.split("/", 1)[0].strip()
    if token == "T":
        return True
    if token == "F":
        return False
    if token == "":
        return None
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token.replace("D", "E"))
    except ValueError:
        raise _Unsupported(f"card value {text!r}") from None


def _parse_header(block):
    """Dict of the keyword values of a header block (COMMENT / HISTORY skipped)."""
    text = block.decode("ascii", errors="replace")
    header = {}
    for start in range(0, len(text), _CARD):
        card = text[start:start + _CARD]
        key = card[:8].rstrip()
        if key == "END":
            break
        if key in ("CONTINUE", "HIERARCH"):
            raise _Unsupported(key)
        if key in ("COMMENT", "HISTORY", "") or card[8:10] != "= ":
            continue
        if key not in header:
            header[key] = _parse_value(card[10:])
    return header


class FitsFile:
    """A FITS file in memory: HDU names, headers as dicts and binary tables as `~astropy.table.Table`.

    Parameters
    ----------
    raw : bytes
        File content (decompressed).
    path : str
        File name, for error messages.
    """

    def __init__(self, raw, path=""):
        self._raw = raw
        self.path = path
        self._hdus = []  # (header_start, header_stop, data_start, data_size)
        self._headers = {}
        self._astropy = None
        pos, size = 0, len(raw)
        while pos + _BLOCK <= size:
            stop = self._find_end(pos)
            header = self._header_at(pos, stop, len(self._hdus))
            data_size = self._data_size(header)
            data_start = stop
            if data_start + data_size > size:
                raise OSError(
                    f"{path}: HDU {len(self._hdus)} needs {data_size} bytes of data, "
                    f"file ends after {size - data_start}: truncated file"
                )
            self._hdus.append((pos, stop, data_start, data_size))
            pos = data_start + int(np.ceil(data_size / _BLOCK)) * _BLOCK
        if not self._hdus:
            raise OSError(f"{path}: not a FITS file (no complete header)")
        if pos < size and raw[pos:].strip(b"\x00 "):
            raise OSError(f"{path}: incomplete HDU after HDU {len(self._hdus) - 1}: truncated file")

    def _find_end(self, pos):
        raw, size = self._raw, len(self._raw)
        while pos + _BLOCK <= size:
            block = raw[pos:pos + _BLOCK]
            for card in range(0, _BLOCK, _CARD):
                if block[card:card + 8] == b"END     ":
                    return pos + _BLOCK
            pos += _BLOCK
        raise OSError(f"{self.path}: header without END card: truncated file")

    def _header_at(self, start, stop, idx):
        header = self._headers.get(idx)
        if header is None:
            block = self._raw[start:stop]
            try:
                header = _parse_header(block)
            except _Unsupported:
                hdr = fits.Header.fromstring(block.decode("ascii", errors="replace"))
                header = {k: hdr[k] for k in hdr if k not in ("COMMENT", "HISTORY", "")}
            self._headers[idx] = header
        return header

    @staticmethod
    def _data_size(header):
        naxis = int(header.get("NAXIS", 0))
        if naxis == 0:
            return 0
        n = 1
        for i in range(1, naxis + 1):
            n *= int(header.get(f"NAXIS{i}", 0))
        bitpix = abs(int(header.get("BITPIX", 8)))
        return bitpix // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + n)

    # ------------------------------------------------------------------ access
    def __len__(self):
        return len(self._hdus)

    @property
    def names(self):
        """HDU names (EXTNAME, "PRIMARY" for the first HDU)."""
        return [
            str(self.header(i).get("EXTNAME", "PRIMARY" if i == 0 else "")).strip().upper()
            for i in range(len(self))
        ]

    def index(self, hdu):
        """Index of an HDU given by name (case-insensitive) or number."""
        if isinstance(hdu, (int, np.integer)):
            if not -len(self) <= hdu < len(self):
                raise KeyError(f"{self.path}: no HDU number {hdu} (file has {len(self)} HDUs)")
            return int(hdu) % len(self)
        names = self.names
        key = str(hdu).strip().upper()
        if key not in names:
            raise KeyError(f"{self.path}: no HDU {hdu!r} (HDUs in file: {names})")
        return names.index(key)

    def header(self, hdu):
        """Header keywords of an HDU as a dict."""
        idx = self.index(hdu) if not isinstance(hdu, int) else hdu
        start, stop, _, _ = self._hdus[idx]
        return self._header_at(start, stop, idx)

    def colnames(self, hdu):
        """Column names of a binary table HDU."""
        header = self.header(self.index(hdu))
        return [str(header.get(f"TTYPE{i}", "")).strip() for i in range(1, int(header.get("TFIELDS", 0)) + 1)]

    def table(self, hdu):
        """Binary table HDU as a `~astropy.table.Table` (header in ``meta``)."""
        idx = self.index(hdu)
        header = self.header(idx)
        if str(header.get("XTENSION", "")).strip() != "BINTABLE":
            raise ValueError(f"{self.path}: HDU {hdu!r} is not a binary table")
        try:
            columns = self._columns_fast(idx, header)
        except _Unsupported:
            columns = self._columns_astropy(idx)
        return Table(columns, meta=dict(header), copy=False)

    def _columns_fast(self, idx, header):
        nfields = int(header.get("TFIELDS", 0))
        nrows = int(header.get("NAXIS2", 0))
        row_size = int(header.get("NAXIS1", 0))
        if int(header.get("PCOUNT", 0)) != 0 and nrows * row_size == 0:
            raise _Unsupported("heap")
        names, formats, offsets, specs = [], [], [], []
        offset = 0
        for i in range(1, nfields + 1):
            if f"TSCAL{i}" in header or f"TZERO{i}" in header:
                raise _Unsupported("scaled column")
            match = _TFORM.match(str(header.get(f"TFORM{i}", "")))
            if match is None:
                raise _Unsupported("column format")
            repeat = int(match.group(1)) if match.group(1) else 1
            code = match.group(2)
            name = str(header.get(f"TTYPE{i}", f"col{i}")).strip()
            if code == "A":
                fmt, width = f"S{repeat}", repeat
                shape = ()
            else:
                fmt = _NUMPY_CODES[code]
                width = repeat * np.dtype(fmt).itemsize
                tdim = header.get(f"TDIM{i}")
                if tdim:
                    shape = tuple(int(v) for v in str(tdim).strip("() ").split(","))[::-1]
                    if int(np.prod(shape)) != repeat:
                        raise _Unsupported("TDIM")
                else:
                    shape = (repeat,) if repeat != 1 else ()
            if width > 0:
                names.append(name)
                formats.append((fmt, shape) if shape else fmt)
                offsets.append(offset)
                specs.append((name, code, header.get(f"TUNIT{i}")))
            offset += width
        if offset != row_size:
            raise _Unsupported("row size")
        dtype = np.dtype(dict(names=names, formats=formats, offsets=offsets, itemsize=row_size))
        data_start = self._hdus[idx][2]
        rows = np.frombuffer(self._raw, dtype=dtype, count=nrows, offset=data_start)
        columns = []
        for name, code, unit in specs:
            values = rows[name]
            if code == "A":
                values = np.char.rstrip(np.char.decode(values, "ascii", errors="replace"))
            elif code == "L":
                values = values == b"T"
            else:
                values = values.astype(values.dtype.newbyteorder("="))
            columns.append(Column(values, name=name, unit=_unit(unit), copy=False))
        return columns

    def _columns_astropy(self, idx):
        if self._astropy is None:
            self._astropy = fits.open(io.BytesIO(self._raw), memmap=False)
        hdu = self._astropy[idx]
        data = hdu.data
        columns = []
        for col in hdu.columns:
            values = np.asarray(data[col.name])
            if values.dtype.kind in "biufc" and not values.dtype.isnative:
                values = values.astype(values.dtype.newbyteorder("="))
            columns.append(Column(values, name=col.name, unit=_unit(col.unit)))
        return columns


def _unit(text):
    """Column unit, leniently: unparsable units become `~astropy.units.UnrecognizedUnit`."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    unit = u.Unit(text, format="fits", parse_strict="silent")
    if isinstance(unit, u.UnrecognizedUnit):
        try:
            unit = u.Unit(text)
        except ValueError:
            pass
    return unit
