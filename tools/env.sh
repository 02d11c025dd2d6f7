# shellcheck shell=bash disable=SC1090,SC1091
# Source from bash (`source tools/env.sh`) to work in the environment made by tools/setup.sh; tools/run
# does it for one command. Safe to source repeatedly. Sets only:
#   both modes    PATH (.venv/bin first), VIRTUAL_ENV, MMCHAT_ROOT, MMCHAT_MODE,
#                 PYTHONPATH ends with MMCHAT_ROOT: the offline packages of the checkout
#                 (mmchat_tools, mmchat_bench) import; mmchat_ros still comes from install/,
#                 MUJOCO_GL (default egl: offscreen MuJoCo rendering on the CPU, kept if already set)
#   wheels mode   AMENT_PREFIX_PATH, LD_LIBRARY_PATH, PYTHONPATH, PATH (the package's executables, in
#                 place of `ros2 run`) for install/mmchat_ros and the ROS 2
#                 wheels in .venv. LD_LIBRARY_PATH must hold our libraries before Python starts (the
#                 wheels' bootstrap re-executes Python with the inherited value extended).
#   system mode   whatever /opt/ros/<distro>/setup.bash and install/setup.bash set.
#   DDS (only where unset): ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST keeps all DDS traffic on this
#                 machine (set SUBNET to reach a robot or rviz elsewhere); FASTDDS_DEFAULT_PROFILES_FILE
#                 = config/fastdds/shm_large_images.xml so images cross processes by shared memory
#                 without loss. ROS_DOMAIN_ID and RMW_* are left as they are.

MMCHAT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MMCHAT_ROOT

# _mmchat_prepend VAR DIR: make DIR the first entry of the :-separated VAR, dropping other copies.
_mmchat_prepend() {
  local cur=":${!1:-}:"
  while [[ $cur == *":$2:"* ]]; do cur=${cur/":$2:"/:}; done
  cur=${cur#:}; cur=${cur%:}
  export "$1=$2${cur:+:$cur}"
}

# The mode tools/setup.sh chose (and built with).
_mmchat_mode=wheels
_mmchat_ros_setup=
if [[ -f $MMCHAT_ROOT/.venv/.mmchat-mode ]]; then
  source "$MMCHAT_ROOT/.venv/.mmchat-mode"
else
  echo "[env] $MMCHAT_ROOT/.venv is not set up: run 'make setup' (tools/setup.sh) first" >&2
fi
export MMCHAT_MODE=$_mmchat_mode

if [[ $MMCHAT_MODE == system ]]; then
  # ROS setup scripts read unset variables and let tests fail: source them without `set -eu`, then
  # restore the caller's options.
  _mmchat_opts=$-
  set +eu
  source "$_mmchat_ros_setup"
  if [[ -f $MMCHAT_ROOT/install/setup.bash ]]; then
    source "$MMCHAT_ROOT/install/setup.bash"
  fi
  if [[ $_mmchat_opts == *e* ]]; then set -e; fi
  if [[ $_mmchat_opts == *u* ]]; then set -u; fi
  unset _mmchat_opts
else
  _mmchat_prefix=$MMCHAT_ROOT/install/mmchat_ros
  _mmchat_pydir=("$MMCHAT_ROOT"/.venv/lib/python3.*)   # the venv's pythonX.Y
  _mmchat_prepend AMENT_PREFIX_PATH "$MMCHAT_ROOT/.venv"
  _mmchat_prepend AMENT_PREFIX_PATH "$_mmchat_prefix"
  _mmchat_prepend LD_LIBRARY_PATH "$_mmchat_prefix/lib"
  _mmchat_prepend PYTHONPATH "$_mmchat_prefix/lib/${_mmchat_pydir[0]##*/}/site-packages"
  _mmchat_prepend PATH "$_mmchat_prefix/lib/mmchat_ros"     # the executables: mmchat, camera_node, ...
  unset _mmchat_prefix _mmchat_pydir
fi

# The checkout's offline packages, after everything else (install/ keeps providing mmchat_ros).
_mmchat_pythonpath=":${PYTHONPATH:-}:"
while [[ $_mmchat_pythonpath == *":$MMCHAT_ROOT:"* ]]; do
  _mmchat_pythonpath=${_mmchat_pythonpath/":$MMCHAT_ROOT:"/:}
done
_mmchat_pythonpath=${_mmchat_pythonpath#:}; _mmchat_pythonpath=${_mmchat_pythonpath%:}
export PYTHONPATH=${_mmchat_pythonpath:+$_mmchat_pythonpath:}$MMCHAT_ROOT
unset _mmchat_pythonpath

export VIRTUAL_ENV=$MMCHAT_ROOT/.venv
_mmchat_prepend PATH "$VIRTUAL_ENV/bin"
export MUJOCO_GL=${MUJOCO_GL:-egl}
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
export FASTDDS_DEFAULT_PROFILES_FILE=${FASTDDS_DEFAULT_PROFILES_FILE:-$MMCHAT_ROOT/config/fastdds/shm_large_images.xml}
unset _mmchat_mode _mmchat_ros_setup
unset -f _mmchat_prepend
