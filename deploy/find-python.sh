#!/usr/bin/env bash
# Print the path of a working Python 3.11-3.13 interpreter, preferring 3.12 (Django 6 needs 3.12 or newer).
set -u
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
candidates=(python3.12 "$pyenv_root"/versions/3.12*/bin/python3 python3.13 "$pyenv_root"/versions/3.13*/bin/python3
            python3.11 "$pyenv_root"/versions/3.11*/bin/python3 python3)
for candidate in "${candidates[@]}"; do
  if "$candidate" -c 'import sys, venv; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "No Python 3.11, 3.12 or 3.13 with the venv module was found. Install python3.12 (or python3.11 and python3-venv) and run make again." >&2
exit 1
