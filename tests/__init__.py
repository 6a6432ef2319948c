"""ods-fix's tests. tests/unit mirrors the code (tests/unit/plugins/module_utils/stack/test_dotenv.py tests
plugins/module_utils/stack/dotenv.py); tests/cli runs the CLI; tests/test_catalog.py holds the whole tree to the
catalog; tests/data holds the fixtures (real dumps, real stacks' compose files)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
