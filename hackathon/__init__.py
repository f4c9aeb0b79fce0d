"""The event domain (events, people, roles, groups); its `config` subpackage is the project's roof."""

import sys

# jsonschema imports rfc3987_syntax when it is installed (jupyter-events pulls it in), and that module builds a
# parser grammar at import time: five seconds on every start of the site, a worker or a test run. The platform
# checks no IRI formats, so jsonschema goes without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
