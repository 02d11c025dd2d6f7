"""Build the MuJoCo model (MJCF text plus texture assets) of a world with one multirotor in it.

ROS-free. Frames follow REP-103: world ENU with z up, vehicle body FLU. Rotors are MuJoCo motors at
sites whose gear applies thrust along body z and the reaction torque about body z.
"""
from __future__ import annotations

import math

from mmchat_ros.simulation.textures import TEXTURES
from mmchat_ros.simulation.world import Obstacle, Target, World
from mmchat_ros.vehicle_model import CameraMount, VehicleModel

VEHICLE_BODY = 'vehicle'
GEAR_CLEARANCE_M = 0.06     # the landing legs' depth below the body origin


def _v(values) -> str:
    return ' '.join(f'{float(v):.6g}' for v in values)


def camera_xyaxes(pitch_deg: float) -> tuple[float, ...]:
    """MuJoCo camera axes for a camera looking along body +x, pitched down by pitch_deg."""
    pitch = math.radians(pitch_deg)
    return (0.0, -1.0, 0.0, math.sin(pitch), 0.0, math.cos(pitch))


def vertical_fov_deg(horizontal_fov_deg: float, aspect_h_over_w: float) -> float:
    """The vertical field of view of a pinhole camera with square pixels."""
    half = math.radians(horizontal_fov_deg) / 2
    return math.degrees(2 * math.atan(math.tan(half) * aspect_h_over_w))


def _assets(seed: int) -> tuple[str, dict[str, bytes]]:
    files = {f'{name}.png': make(seed + i) for i, (name, make) in enumerate(TEXTURES.items())}
    xml = [f'<texture name="{n}" type="2d" file="{n}.png"/>' for n in TEXTURES]
    xml += ['<texture name="checker" type="2d" builtin="checker" rgb1=".9 .9 .9" rgb2=".15 .15 .15"'
            ' width="256" height="256"/>',
            '<texture name="dots" type="2d" builtin="flat" mark="random" random="0.06"'
            ' rgb1=".5 .5 .5" markrgb="1 1 1" width="256" height="256"/>',
            '<texture name="wood" type="2d" builtin="gradient" rgb1=".55 .35 .2" rgb2=".3 .18 .1"'
            ' width="256" height="256"/>',
            '<texture name="sky" type="skybox" builtin="gradient" rgb1=".55 .7 .9" rgb2=".9 .95 1"'
            ' width="256" height="256"/>',
            '<material name="floor_tiles" texture="tiles" texrepeat="6 6" texuniform="false"/>',
            '<material name="floor_grass" texture="grass" texrepeat="8 8"/>',
            '<material name="walls" texture="posters" texrepeat="2 1" texuniform="false"/>',
            '<material name="checker" texture="checker" texrepeat="2 2"/>',
            '<material name="dots" texture="dots" texrepeat="1 1"/>',
            '<material name="wood" texture="wood" texrepeat="1 1"/>']
    return '\n    '.join(xml), files


def _arena(world: World) -> str:
    sx, sy, height = world.size_m
    floor = 'floor_tiles' if world.kind == 'room' else 'floor_grass'
    parts = [f'<geom name="floor" type="plane" size="{sx / 2 + 2} {sy / 2 + 2} 0.1"'
             f' material="{floor}"/>']
    if height > 0:
        t = 0.05
        for name, pos, size in (('north', (0, sy / 2 + t, height / 2), (sx / 2, t, height / 2)),
                                ('south', (0, -sy / 2 - t, height / 2), (sx / 2, t, height / 2)),
                                ('east', (sx / 2 + t, 0, height / 2), (t, sy / 2, height / 2)),
                                ('west', (-sx / 2 - t, 0, height / 2), (t, sy / 2, height / 2))):
            parts.append(f'<geom name="wall_{name}" type="box" pos="{_v(pos)}" size="{_v(size)}"'
                         ' material="walls"/>')
    if world.kind == 'room':
        parts.append(f'<geom name="ceiling" type="box" pos="0 0 {height + 0.05}" '
                     f'size="{sx / 2} {sy / 2} 0.05" rgba=".85 .85 .8 1"/>')
        for x in (-sx / 4, sx / 4):
            for y in (-sy / 4, sy / 4):
                parts.append(f'<light pos="{x} {y} {height - 0.2}" dir="0 0 -1"'
                             ' diffuse=".35 .35 .33" castshadow="false" attenuation="1 0.05 0"/>')
    else:
        parts.append('<light pos="0 0 30" dir="0.3 0.2 -1" directional="true" diffuse=".8 .8 .75"'
                     ' castshadow="false"/>')
    return '\n    '.join(parts)


def _obstacle(i: int, o: Obstacle) -> str:
    material = f' material="{o.texture}"' if o.texture else ''
    half = tuple(s / 2 for s in o.size_m)
    return (f'<geom name="obstacle_{i}" type="box" pos="{_v(o.position_m)}" size="{_v(half)}"'
            f' rgba="{_v(o.rgba)}"{material}/>')


def _target(t: Target) -> str:
    x, y = t.path.pose(0.0)[0]
    ghost = 'contype="0" conaffinity="0"'
    if t.kind == 'person':
        geoms = [f'<geom type="capsule" fromto="0 0.1 0.1 0 0.1 0.85" size="0.07"'
                 f' rgba=".15 .2 .35 1" {ghost}/>',
                 f'<geom type="capsule" fromto="0 -0.1 0.1 0 -0.1 0.85" size="0.07"'
                 f' rgba=".15 .2 .35 1" {ghost}/>',
                 f'<geom type="box" pos="0 0 1.15" size="0.12 0.2 0.3" rgba="{_v(t.rgba)}"'
                 f' {ghost}/>',
                 f'<geom type="capsule" fromto="0 0.27 1.4 0.05 0.3 0.9" size="0.05"'
                 f' rgba="{_v(t.rgba)}" {ghost}/>',
                 f'<geom type="capsule" fromto="0 -0.27 1.4 0.05 -0.3 0.9" size="0.05"'
                 f' rgba="{_v(t.rgba)}" {ghost}/>',
                 f'<geom type="sphere" pos="0 0 1.58" size="0.11" rgba=".87 .68 .55 1" {ghost}/>']
    else:
        geoms = [f'<geom type="box" pos="0 0 0.5" size="1.0 0.48 0.3" rgba="{_v(t.rgba)}"'
                 f' {ghost}/>',
                 f'<geom type="box" pos="-0.15 0 0.95" size="0.55 0.44 0.2" rgba=".6 .75 .85 1"'
                 f' {ghost}/>']
        geoms += [f'<geom type="cylinder" pos="{wx} {wy} 0.25" euler="1.5708 0 0" size="0.25 0.08"'
                  f' rgba=".05 .05 .05 1" {ghost}/>' for wx in (-0.65, 0.65) for wy in (-0.5, 0.5)]
    return (f'<body name="target_{t.target_id}" mocap="true" pos="{x:.4g} {y:.4g} 0">\n      '
            + '\n      '.join(geoms) + '\n    </body>')


def _vehicle(vehicle: VehicleModel, home: tuple[float, float, float], aspect: float) -> str:
    ixx, iyy, izz = vehicle.inertia_kg_m2
    start = (home[0], home[1], home[2] + GEAR_CLEARANCE_M)
    parts = ['<freejoint name="vehicle_joint"/>',
             f'<inertial pos="0 0 0" mass="{vehicle.mass_kg}" diaginertia="{ixx} {iyy} {izz}"/>',
             '<geom name="hull" type="box" size="0.07 0.05 0.025" rgba=".2 .2 .22 1"/>',
             '<site name="imu" pos="0 0 0" size="0.01"/>']
    for i, rotor in enumerate(vehicle.rotors):
        x, y, z = rotor.position_m
        parts += [f'<geom type="capsule" fromto="0 0 0 {x} {y} {z}" size="0.008"'
                  ' rgba=".25 .25 .25 1"/>',
                  f'<geom type="cylinder" pos="{x} {y} {z + 0.01}" size="0.06 0.004"'
                  f' rgba="{".8 .2 .2" if x > 0 else ".3 .3 .3"} 0.6"'
                  ' contype="0" conaffinity="0"/>',
                  f'<geom type="sphere" pos="{x * 0.7} {y * 0.7} {-GEAR_CLEARANCE_M + 0.01}"'
                  ' size="0.01" rgba=".1 .1 .1 1" friction="1.0 0.01 0.001"/>',
                  f'<site name="rotor_{i}" pos="{x} {y} {z}" size="0.01"/>']
    for name, mount in vehicle.cameras.items():
        parts.append(_camera(name, mount, aspect))
    return (f'<body name="{VEHICLE_BODY}" pos="{_v(start)}">\n      ' + '\n      '.join(parts)
            + '\n    </body>')


def _camera(name: str, mount: CameraMount, aspect: float) -> str:
    fovy = vertical_fov_deg(mount.horizontal_fov_deg, aspect)
    return (f'<camera name="{name}" pos="{_v(mount.position_m)}" '
            f'xyaxes="{_v(camera_xyaxes(mount.pitch_deg))}" fovy="{fovy:.5g}"/>')


def build(world: World, vehicle: VehicleModel, physics_dt_s: float = 0.001, seed: int = 0,
          camera_aspect: float = 0.75) -> tuple[str, dict[str, bytes]]:
    """MJCF text and its texture assets for `world` with `vehicle` at the world's home position."""
    assets_xml, files = _assets(seed)
    motors = '\n    '.join(
        f'<motor name="rotor_{i}" site="rotor_{i}" ctrllimited="true"'
        f' ctrlrange="0 {vehicle.max_thrust_n}"'
        f' gear="0 0 1 0 0 {r.yaw_torque_sign * vehicle.yaw_torque_per_thrust_m}"/>'
        for i, r in enumerate(vehicle.rotors))
    targets = '\n    '.join(_target(t) for t in world.targets)
    obstacles = '\n    '.join(_obstacle(i, o) for i, o in enumerate(world.obstacles))
    xml = f"""<mujoco model="{world.name}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{physics_dt_s}" gravity="0 0 -9.80665" integrator="implicitfast"/>
  <visual>
    <global offwidth="1280" offheight="960"/>
    <headlight ambient=".35 .35 .35" diffuse=".45 .45 .45" specular="0 0 0"/>
    <quality shadowsize="0"/>
    <!-- clip planes are fractions of the model's extent: near ~1 cm, so a landed camera sees
         the floor -->
    <map znear="0.001" zfar="8"/>
  </visual>
  <asset>
    {assets_xml}
  </asset>
  <worldbody>
    {_arena(world)}
    {obstacles}
    {targets}
    {_vehicle(vehicle, world.home_m, camera_aspect)}
  </worldbody>
  <actuator>
    {motors}
  </actuator>
  <sensor>
    <accelerometer name="accelerometer" site="imu"/>
    <gyro name="gyro" site="imu"/>
  </sensor>
</mujoco>
"""
    return xml, files
