"""Stands in for get-pip.py, which ansible-test sanity downloads from a host these machines cannot reach.

ansible-test runs it inside each fresh venv (made --without-pip) with pip's install arguments: pip comes from the
venv's own ensurepip, then installs what was asked (pip==24.2) from the package index, as get-pip would.
"""

import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
