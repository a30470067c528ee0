"""One Parquet file from row groups encoded separately (in parallel), without re-encoding.

pyarrow's ParquetWriter encodes the columns of a row group one after the other in the calling
thread, so a single writer keeps one core busy at most. Here each row group is written as a
small standalone Parquet file in memory (by any thread), and the pieces are then laid end to
end: the column chunks are copied as they are and only the footer is rebuilt, with the row
groups' file offsets shifted to where their bytes landed. The result is byte for byte the file
one ParquetWriter writes from the same tables (row groups are encoded independently of each
other; tests/unit/test_synth.py checks this).

The footer is Thrift (compact protocol). It is decoded into a generic tree that keeps every
field's id and type, so fields this module does not know pass through unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, BinaryIO

_MAGIC = b"PAR1"
# Thrift compact protocol type ids.
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)


# A struct is a list of [field id, type, value]; a list or set is (element type, [values]);
# a map is (key type, value type, [(key, value)]).
Struct = list


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> Any:
        if kind in (_TRUE, _FALSE):  # a bool element of a list or set: one byte
            return self.byte() == _TRUE
        if kind == _BYTE:
            b = self.byte()
            return b - 256 if b > 127 else b
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.pos += 8
            return struct.unpack_from("<d", self.data, self.pos - 8)[0]
        if kind == _BINARY:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n:self.pos]
        if kind in (_LIST, _SET):
            head = self.byte()
            size, elem = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            return (elem, [self.value(elem) for _ in range(size)])
        if kind == _MAP:
            size = self.varint()
            if size == 0:
                return (0, 0, [])
            types = self.byte()
            key, val = types >> 4, types & 0x0F
            return (key, val, [(self.value(key), self.value(val)) for _ in range(size)])
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"unknown Thrift compact type {kind}")

    def struct(self) -> Struct:
        fields: Struct = []
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return fields
            kind, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            value = kind == _TRUE if kind in (_TRUE, _FALSE) else self.value(kind)
            fields.append([fid, kind, value])
            last = fid


def _varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zigzag(out: bytearray, n: int) -> None:
    _varint(out, (n << 1) ^ (n >> 63))


def _write_value(out: bytearray, kind: int, value: Any) -> None:
    if kind in (_TRUE, _FALSE):
        out.append(_TRUE if value else _FALSE)
    elif kind == _BYTE:
        out.append(value & 0xFF)
    elif kind in (_I16, _I32, _I64):
        _zigzag(out, value)
    elif kind == _DOUBLE:
        out += struct.pack("<d", value)
    elif kind == _BINARY:
        _varint(out, len(value))
        out += value
    elif kind in (_LIST, _SET):
        elem, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | elem)
        else:
            out.append(0xF0 | elem)
            _varint(out, len(items))
        for item in items:
            _write_value(out, elem, item)
    elif kind == _MAP:
        key, val, items = value
        _varint(out, len(items))
        if items:
            out.append(key << 4 | val)
            for k, v in items:
                _write_value(out, key, k)
                _write_value(out, val, v)
    elif kind == _STRUCT:
        _write_struct(out, value)
    else:
        raise ValueError(f"unknown Thrift compact type {kind}")


def _write_struct(out: bytearray, fields: Struct) -> None:
    last = 0
    for fid, kind, value in fields:
        if kind in (_TRUE, _FALSE):
            kind = _TRUE if value else _FALSE
        delta = fid - last
        if 0 < delta <= 15:
            out.append(delta << 4 | kind)
        else:
            out.append(kind)
            _zigzag(out, fid)
        if kind not in (_TRUE, _FALSE):
            _write_value(out, kind, value)
        last = fid
    out.append(0)


def _field(fields: Struct, fid: int) -> list | None:
    return next((f for f in fields if f[0] == fid), None)


# parquet.thrift field ids holding absolute file offsets.
_ROW_GROUPS, _NUM_ROWS = 4, 3  # FileMetaData
_RG_COLUMNS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 5, 7  # RowGroup
_CC_FILE_OFFSET, _CC_META, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX = 2, 3, 4, 6  # ColumnChunk
# ColumnMetaData: data_page_offset, index_page_offset, dictionary_page_offset, bloom filter
_META_OFFSETS = (9, 10, 11, 14)


def _shift(fields: Struct, ids: tuple[int, ...], delta: int) -> None:
    """Move the offsets among fields by delta; 0 is no offset (Arrow writes the deprecated
    ColumnChunk.file_offset as 0) and stays 0."""
    for f in fields:
        if f[0] in ids and f[2]:
            f[2] += delta


def _shift_row_group(group: Struct, delta: int) -> None:
    _shift(group, (_RG_FILE_OFFSET,), delta)
    for chunk in _field(group, _RG_COLUMNS)[2][1]:
        _shift(chunk, (_CC_FILE_OFFSET, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX), delta)
        meta = _field(chunk, _CC_META)
        if meta is not None:
            _shift(meta[2], _META_OFFSETS, delta)


def _tail(pieces: Sequence[memoryview], size: int) -> bytes:
    """The last `size` bytes of the pieces laid end to end."""
    out: list[bytes] = []
    need = size
    for piece in reversed(pieces):
        if need <= 0:
            break
        out.append(bytes(piece[max(0, len(piece) - need):]))
        need -= len(piece)
    return b"".join(reversed(out))


def _split(pieces: Sequence[memoryview]) -> tuple[list[memoryview], Struct]:
    """(the bytes between the leading magic and the footer, as views into the pieces, and the
    decoded footer) of a Parquet file written as consecutive pieces."""
    total = sum(len(p) for p in pieces)
    end = _tail(pieces, 8)
    if len(end) < 8 or end[4:] != _MAGIC:
        raise ValueError("not a Parquet file")
    length = struct.unpack("<I", end[:4])[0]
    footer_start = total - 8 - length
    meta = _Reader(_tail(pieces, 8 + length)[:length]).struct()
    body, pos = [], 0
    for piece in pieces:
        lo, hi = max(len(_MAGIC), pos), min(footer_start, pos + len(piece))
        if lo < hi:
            body.append(piece[lo - pos:hi - pos])
        pos += len(piece)
    return body, meta


def split_file(data: bytes | memoryview) -> tuple[memoryview, Struct]:
    """(bytes between the leading magic and the footer, decoded footer) of a Parquet file."""
    view = memoryview(data)
    if bytes(view[:4]) != _MAGIC:
        raise ValueError("not a Parquet file")
    body, meta = _split([view])
    return body[0] if body else view[4:4], meta


class PiecesFile:
    """A write-only file object that keeps what is written to it as a list of pieces, for a
    Parquet writer: unlike a growing buffer, it copies nothing twice and takes memory in
    page-sized blocks that the allocator reuses."""

    def __init__(self) -> None:
        self.pieces: list[memoryview] = []
        self._size = 0
        self.closed = False

    def write(self, data: Any) -> int:
        piece = memoryview(data if isinstance(data, bytes) else bytes(data))
        self.pieces.append(piece)
        self._size += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


class StitchedFile:
    """A Parquet file built from standalone Parquet files appended in order (same schema)."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._sink.write(_MAGIC)
        self._pos = len(_MAGIC)
        self._meta: Struct | None = None
        self._groups: list[Struct] = []
        self._rows = 0

    def append(self, data: bytes | memoryview | PiecesFile) -> None:
        """Append the row groups of one standalone Parquet file (bytes or a PiecesFile)."""
        pieces = data.pieces if isinstance(data, PiecesFile) else [memoryview(data)]
        if not pieces or bytes(pieces[0][:4]) != _MAGIC:
            raise ValueError("not a Parquet file")
        body, meta = _split(pieces)
        delta = self._pos - len(_MAGIC)  # where the piece's offset 4 lands
        if self._meta is None:
            self._meta = meta
        for group in _field(meta, _ROW_GROUPS)[2][1]:
            _shift_row_group(group, delta)
            ordinal = _field(group, _RG_ORDINAL)
            if ordinal is not None:
                ordinal[2] = len(self._groups)
            self._groups.append(group)
        self._rows += _field(meta, _NUM_ROWS)[2]
        for view in body:
            self._sink.write(view)
            self._pos += len(view)

    def close(self) -> None:
        """Write the footer (the first piece's, with every piece's row groups)."""
        if self._meta is None:
            raise ValueError("no row groups to write")
        meta = [list(f) for f in self._meta]
        _field(meta, _NUM_ROWS)[2] = self._rows
        groups = _field(meta, _ROW_GROUPS)
        groups[2] = (groups[2][0], self._groups)
        out = bytearray()
        _write_struct(out, meta)
        self._sink.write(bytes(out) + struct.pack("<I", len(out)) + _MAGIC)
