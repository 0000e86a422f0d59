import sys
from pathlib import Path

# Import the bridge from this checkout even when it is not pip-installed.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
