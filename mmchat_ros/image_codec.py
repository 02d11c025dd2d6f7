"""Convert between numpy arrays and the fields of a `sensor_msgs/Image`, without cv_bridge.

ROS-free: `decode` accepts any object with the Image fields (a real message, or a test double) and
`encode` returns plain field values, so the checks can be tested alone.
"""
from __future__ import annotations

import array
from dataclasses import dataclass
import sys

import numpy as np

# encoding -> (dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    'bgr8': (np.dtype(np.uint8), 3),
    'rgb8': (np.dtype(np.uint8), 3),
    'bgra8': (np.dtype(np.uint8), 4),
    'rgba8': (np.dtype(np.uint8), 4),
    'mono8': (np.dtype(np.uint8), 1),
    'mono16': (np.dtype(np.uint16), 1),
    '16UC1': (np.dtype(np.uint16), 1),
    '32FC1': (np.dtype(np.float32), 1),
}


class ImageFormatError(ValueError):
    """A message that does not describe a valid image of a supported encoding."""


@dataclass(frozen=True)
class ImageFields:
    """The payload fields of a `sensor_msgs/Image` (header excluded)."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: array.array


def decode(msg, expected: tuple[str, ...] | None = None) -> np.ndarray:
    """Return an (H, W) or (H, W, C) array viewing the image data of `msg`.

    Raises ImageFormatError for an unsupported or unexpected encoding, a zero size, a step shorter
    than a row, or a data buffer of the wrong length. The result shares memory with `msg.data` when
    the rows are not padded and the byte order matches; it is read-only in that case.
    """
    encoding = msg.encoding
    if encoding not in ENCODINGS:
        raise ImageFormatError(f"unsupported image encoding '{encoding}' "
                               f"(supported: {', '.join(sorted(ENCODINGS))})")
    if expected is not None and encoding not in expected:
        raise ImageFormatError(f"image encoding '{encoding}' not accepted here "
                               f"(expected one of: {', '.join(expected)})")
    dtype, channels = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageFormatError(f'empty image: {width}x{height}')
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageFormatError(f'step {step} is shorter than one row of {width} {encoding} pixels '
                               f'({row_bytes} bytes)')
    if len(msg.data) != step * height:
        raise ImageFormatError(f'data has {len(msg.data)} bytes, expected step*height = '
                               f'{step}*{height} = {step * height}')
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(height, step)[:, :row_bytes]
    wire_dtype = dtype.newbyteorder('>' if msg.is_bigendian else '<')
    pixels = np.ascontiguousarray(rows).view(wire_dtype)  # copies only padded rows
    if not wire_dtype.isnative:
        pixels = pixels.astype(dtype)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return pixels.reshape(shape)


def encode(image: np.ndarray, encoding: str) -> ImageFields:
    """Return Image fields for `image`, checking that its dtype and shape fit `encoding`."""
    if encoding not in ENCODINGS:
        raise ImageFormatError(f"unsupported image encoding '{encoding}'")
    dtype, channels = ENCODINGS[encoding]
    if image.dtype != dtype:
        raise ImageFormatError(f'{encoding} needs dtype {dtype}, got {image.dtype}')
    expected_ndim = 2 if channels == 1 else 3
    if image.ndim != expected_ndim or (channels > 1 and image.shape[2] != channels):
        shape = '(H, W)' if channels == 1 else f'(H, W, {channels})'
        raise ImageFormatError(f'{encoding} needs shape {shape}, got {image.shape}')
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ImageFormatError(f'empty image: {width}x{height}')
    data = array.array('B')
    data.frombytes(memoryview(np.ascontiguousarray(image)).cast('B'))   # one copy, no bytes object
    return ImageFields(height=height, width=width, encoding=encoding,
                       is_bigendian=int(sys.byteorder == 'big'),
                       step=width * channels * dtype.itemsize, data=data)
