#!/usr/bin/env bash
# as-root.sh [-n] [--show] CMD [ARG...] - runs CMD as root: directly when
# already root, through sudo otherwise, and with a clear error when neither
# is possible.
#
# Why: the README's commands must work for root on a machine without sudo
# (containers, fresh VMs) as well as for a user who has sudo; only the steps
# that need root (scripts/setup.sh, beyla record, the end-to-end tests) go
# through here, so what the build, the analysis and the test runner write
# stays the invoking user's.
#
#   -n      never prompt: sudo -n (fails at once if sudo wants a password);
#           tests/run.sh uses it under a time limit, where a prompt would hang
#   --show  print the command as it is run ("+ sudo CMD" or "+ CMD") on stderr
#
# Under sudo the environment is reset (sudoers env_reset, secure_path):
# callers that need a variable pass it explicitly (as-root.sh env VAR=x CMD).
set -uo pipefail

nonint= show=
while [ $# -gt 0 ]; do
	case $1 in
	-n) nonint=1; shift ;;
	--show) show=1; shift ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: as-root.sh [-n] [--show] CMD [ARG...]" >&2; exit 2; }

if [ "$(id -u)" -eq 0 ]; then
	[ -z "$show" ] || printf '+ %s\n' "$*" >&2
	exec "$@"
fi
if command -v sudo >/dev/null 2>&1; then
	[ -z "$show" ] || printf '+ sudo %s\n' "$*" >&2
	exec sudo ${nonint:+-n} "$@"
fi
printf 'as-root.sh: "%s" needs root, you are %s and sudo is not installed:\n' "$*" "$(id -un 2>/dev/null || id -u)" >&2
printf '  run it as root (su -), or have root install sudo (apt-get install sudo) and add you to group sudo\n' >&2
exit 1
