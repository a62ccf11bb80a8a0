from tests.console.conftest import artifacts, browser, chromium
from tests.support.fixtures import loket, module_clock

__all__ = ["artifacts", "browser", "chromium", "loket", "module_clock"]
