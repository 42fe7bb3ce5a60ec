#!/bin/sh
# Prints the path of a Python 3.12 interpreter (Port Ocean 0.56.2 needs 3.12) and exits 0, or
# prints nothing and exits 1 when there is none. Used by `make ocean-venv` and Tests/Ocean.
#
# Looks at python3.12 on PATH (a pyenv shim there may not run: each candidate is tried), then
# $(pyenv root)/versions/3.12*/bin/python3.12 ($PYENV_ROOT or ~/.pyenv without pyenv on PATH).
# PORT_OCEAN_PYTHON, when set, is the only candidate; set it empty to act as if there were no 3.12.
if [ "${PORT_OCEAN_PYTHON+set}" = set ]; then
	candidates=$PORT_OCEAN_PYTHON
else
	root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
	candidates="$(command -v python3.12 2>/dev/null) $root/versions/3.12*/bin/python3.12"
fi
for python in $candidates; do
	if [ -x "$python" ] && "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
		echo "$python"
		exit 0
	fi
done
exit 1
