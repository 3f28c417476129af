"""Lianxin's five services, the operator's CLI and what they share."""

import warnings

# nameko 2 runs on eventlet, which warns at import that it is deprecated: a plain Warning, shown
# every time, once per process. `make run` starts six processes and every `lianxin` command
# printed it again (mixed into JSON output). We know; the upgrade path is nameko's, not ours.
# This package is imported before eventlet by every entry point (lianxin, lianxin-service).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)
