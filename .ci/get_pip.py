"""Stand-in for pip's get-pip.py, which ansible-test downloads from a host CI cannot reach.

ansible-test runs it in each new sanity virtualenv as
``python get_pip.py [--disable-pip-version-check] [--no-setuptools] [--no-wheel] pip==X``.
Python's bundled ensurepip provides a first pip, which then installs the requested one from PyPI.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    # In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment,
    # which would hide the machine's pip configuration (index, CA bundle) from the install.
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    sys.exit(main())
