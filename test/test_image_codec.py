"""Image <-> numpy conversion: round trips for each encoding and rejection of malformed images."""
import array
from types import SimpleNamespace

import numpy as np
import pytest

from mmchat_ros import image_codec
from mmchat_ros.image_codec import ImageFormatError


def fields_msg(**fields):
    return SimpleNamespace(**fields)


@pytest.mark.parametrize('encoding', sorted(image_codec.ENCODINGS))
def test_round_trip_every_encoding(encoding):
    dtype, channels = image_codec.ENCODINGS[encoding]
    shape = (7, 5) if channels == 1 else (7, 5, channels)
    rng = np.random.default_rng(1)
    image = (rng.random(shape) * 1000).astype(dtype)
    fields = image_codec.encode(image, encoding)
    assert (fields.height, fields.width) == (7, 5)
    assert fields.step == 5 * channels * dtype.itemsize
    decoded = image_codec.decode(fields)
    assert decoded.dtype == dtype and decoded.shape == shape
    np.testing.assert_array_equal(decoded, image)


def test_padded_rows_are_cropped():
    image = np.arange(3 * 4 * 3, dtype=np.uint8).reshape(3, 4, 3)
    step = 4 * 3 + 4
    padded = np.zeros((3, step), np.uint8)
    padded[:, :12] = image.reshape(3, 12)
    msg = fields_msg(height=3, width=4, encoding='bgr8', is_bigendian=0, step=step,
                     data=array.array('B', padded.tobytes()))
    np.testing.assert_array_equal(image_codec.decode(msg), image)


def test_big_endian_depth_is_converted():
    depth = np.array([[1, 256], [4096, 65535]], dtype=np.uint16)
    msg = fields_msg(height=2, width=2, encoding='16UC1', is_bigendian=1, step=4,
                     data=array.array('B', depth.astype('>u2').tobytes()))
    decoded = image_codec.decode(msg)
    np.testing.assert_array_equal(decoded, depth)
    assert decoded.dtype.isnative


@pytest.mark.parametrize('change, message', [
    ({'encoding': 'yuv422'}, 'unsupported image encoding'),
    ({'width': 0, 'step': 0, 'data': array.array('B')}, 'empty image'),
    ({'step': 5}, 'shorter than one row'),
    ({'data': array.array('B', bytes(10))}, r'expected step\*height'),
])
def test_malformed_images_are_rejected(change, message):
    good = dict(height=2, width=2, encoding='bgr8', is_bigendian=0, step=6,
                data=array.array('B', bytes(12)))
    with pytest.raises(ImageFormatError, match=message):
        image_codec.decode(fields_msg(**{**good, **change}))


def test_unexpected_encoding_is_rejected():
    fields = image_codec.encode(np.zeros((2, 2), np.uint16), '16UC1')
    with pytest.raises(ImageFormatError, match='not accepted here'):
        image_codec.decode(fields, expected=('bgr8', 'rgb8'))


@pytest.mark.parametrize('image, encoding', [
    (np.zeros((4, 4, 3), np.float32), 'bgr8'),
    (np.zeros((4, 4), np.uint8), 'bgr8'),
    (np.zeros((4, 4, 3), np.uint8), 'mono8'),
    (np.zeros((0, 4, 3), np.uint8), 'bgr8'),
])
def test_encode_rejects_arrays_that_do_not_fit(image, encoding):
    with pytest.raises(ImageFormatError):
        image_codec.encode(image, encoding)
