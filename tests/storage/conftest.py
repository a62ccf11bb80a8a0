from tests.support.fixtures import loket, module_clock

__all__ = ["loket", "module_clock"]
