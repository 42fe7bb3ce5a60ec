#!/bin/sh
# find-python.sh X.Y: prints the path of a Python X.Y interpreter and exits 0, or prints nothing
# and exits 1 when there is none. Used by `make test-python-versions`.
#
# Looks at pythonX.Y on PATH (a pyenv shim there may not run: each candidate is tried), then
# $(pyenv root)/versions/X.Y*/bin/pythonX.Y ($PYENV_ROOT or ~/.pyenv without pyenv on PATH).
version=${1:?usage: find-python.sh X.Y}
root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
for python in $(command -v "python$version" 2>/dev/null) "$root"/versions/"$version".*/bin/python"$version"; do
	if [ -x "$python" ] && "$python" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$version')" >/dev/null 2>&1; then
		echo "$python"
		exit 0
	fi
done
exit 1
