"""Finding a service class's entrypoints without starting it."""

import inspect

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR


def entrypoints_of(service_cls, kind):
    """(method name, entrypoint) for each entrypoint of type ``kind`` on ``service_cls``."""
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, kind):
                yield method_name, entrypoint
