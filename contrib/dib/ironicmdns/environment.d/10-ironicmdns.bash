# The ironicmdns wheel to install into the agent's venv: a path on the
# build host (python -m build in python/, then auditwheel repair; see
# README.rst). Required.
export DIB_IRONICMDNS_WHEEL=${DIB_IRONICMDNS_WHEEL:-}
# The agent's venv, where ironic-python-agent-ramdisk installs the agent.
export DIB_IRONICMDNS_AGENT_VENV=${DIB_IRONICMDNS_AGENT_VENV:-/opt/ironic-python-agent}
# Where extra-data.d puts the wheel for post-install.d (inside the image
# build: $TMP_HOOKS_PATH is /tmp/in_target.d there).
export DIB_IRONICMDNS_WHEEL_DIR=${DIB_IRONICMDNS_WHEEL_DIR:-/tmp/in_target.d/ironicmdns}
