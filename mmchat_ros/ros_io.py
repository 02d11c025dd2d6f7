"""Conversions between ROS messages and the package's plain data: images, camera info, stamps,
commands."""
from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mmchat_ros import image_codec
from mmchat_ros.calibration import CameraCalibration
from mmchat_ros.control.commands import CommandRequest
from mmchat_ros.msg import Command

#: QoS for camera images and camera info: best effort, keep last 5 (REP-2003 sensor data).
SENSOR_QOS: QoSProfile = qos_profile_sensor_data


def image_msg(image: np.ndarray, encoding: str, header: Header) -> Image:
    """A sensor_msgs/Image holding `image` (see image_codec.encode for the checks)."""
    fields = image_codec.encode(image, encoding)
    msg = Image(header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                is_bigendian=fields.is_bigendian, step=fields.step)
    msg.data = fields.data          # assigned after construction: the constructor would copy it
    return msg


def image_array(msg: Image, expected: tuple[str, ...] | None = None) -> np.ndarray:
    """The pixels of `msg` as an array; raises image_codec.ImageFormatError for malformed images."""
    return image_codec.decode(msg, expected)


def bgr_array(msg: Image) -> np.ndarray:
    """The pixels of a colour or grey image as BGR uint8 (converting rgb8 / mono8 / *a8)."""
    import cv2  # imported here: only image consumers need OpenCV

    pixels = image_codec.decode(msg, ('bgr8', 'rgb8', 'bgra8', 'rgba8', 'mono8'))
    conversions = {'rgb8': cv2.COLOR_RGB2BGR, 'bgra8': cv2.COLOR_BGRA2BGR,
                   'rgba8': cv2.COLOR_RGBA2BGR, 'mono8': cv2.COLOR_GRAY2BGR}
    if msg.encoding in conversions:
        return cv2.cvtColor(pixels, conversions[msg.encoding])
    return pixels


def camera_info_msg(calibration: CameraCalibration, header: Header) -> CameraInfo:
    """A sensor_msgs/CameraInfo for `calibration`, stamped with `header`."""
    return CameraInfo(header=header, width=calibration.width, height=calibration.height,
                      distortion_model=calibration.distortion_model, d=list(calibration.d),
                      k=list(calibration.k), r=list(calibration.r), p=list(calibration.p))


def seconds(stamp: Time) -> float:
    """A builtin_interfaces/Time as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def request_from_msg(msg: Command, request_id: str | None = None) -> CommandRequest:
    """A CommandRequest from an mmchat_ros/Command (`request_id` replaces the message's)."""
    return CommandRequest(
        request_id=msg.request_id if request_id is None else request_id, verb=int(msg.verb),
        frame_id=msg.header.frame_id, x_m=float(msg.x_m), y_m=float(msg.y_m), z_m=float(msg.z_m),
        yaw_rad=float(msg.yaw_rad), altitude_m=float(msg.altitude_m),
        speed_mps=float(msg.speed_mps), track_id=int(msg.track_id),
        standoff_m=float(msg.standoff_m), source=int(msg.source), operator_id=msg.operator_id)


def command_msg(request: CommandRequest, stamp: Time) -> Command:
    """An mmchat_ros/Command carrying `request`, stamped `stamp` in the request's frame."""
    return Command(
        header=Header(stamp=stamp, frame_id=request.frame_id), request_id=request.request_id,
        verb=int(request.verb), x_m=request.x_m, y_m=request.y_m, z_m=request.z_m,
        yaw_rad=request.yaw_rad, altitude_m=request.altitude_m, speed_mps=request.speed_mps,
        track_id=request.track_id, standoff_m=request.standoff_m, source=int(request.source),
        operator_id=request.operator_id)
