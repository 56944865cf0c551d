"""The tests import the package from this source tree (built in place by `make python` / `make test-python`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
