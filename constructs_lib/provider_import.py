"""Loads only the parts of the AWS provider bindings a program uses (GitHub issue #6, synth speed).

`import cdktf_cdktf_provider_aws` costs ~9 s on every synth: the package `__init__` imports all
~2,100 resource submodules (~7 s of Python), and the jsii kernel's node process `require`s all
~2,100 JavaScript modules of @cdktf/provider-aws (~1.9 s). A program uses a few dozen of each.
`activate()`, called before the first provider import, removes both costs:

- Python: it puts a plain package object in `sys.modules` whose `__path__` is the installed
  package's directory, so `from cdktf_cdktf_provider_aws.vpc import Vpc` imports `vpc` and
  nothing else, and it imports the package's `_jsii` module, which registers the assembly with
  the kernel exactly as the package `__init__` would. Other submodules still import on first use
  (`cdktf_cdktf_provider_aws.s3_bucket`, `from cdktf_cdktf_provider_aws import *`).
- node: while that first import starts the kernel, `NODE_OPTIONS` preloads
  `provider_import_hook.js`, which turns the package's index.js into lazy getters.

The synthesized JSON is the same byte for byte (tests/test_provider_import.py). Nothing installed
is edited: the package is inspected at run time, and `activate()` falls back to the normal import
when its layout is not the expected one. `CDKTF_FAST_IMPORT=0` turns it off.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
ENV_VAR = "CDKTF_FAST_IMPORT"
NODE_HOOK = Path(__file__).with_name("provider_import_hook.js")
_OFF = {"0", "false", "no", "off"}

# What activate() did, for callers and tests: "fast" (Python and node), "fast-python" (the
# kernel was already running, so node loaded the full index), "off" ($CDKTF_FAST_IMPORT),
# "loaded" (the package was already imported), "fallback: <why>" (normal import done).
status = "inactive"


def enabled(environ=os.environ) -> bool:
    return environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def _package_layout(spec) -> str | None:
    """Why the installed package is not the layout the shim knows, or None if it is: a regular
    package with an `__init__.py` and a `_jsii/__init__.py` that loads the jsii assembly."""
    if spec is None:
        return f"{PACKAGE} is not installed"
    locations = list(spec.submodule_search_locations or [])
    if len(locations) != 1 or not spec.origin:
        return f"{PACKAGE} is not a regular package"
    jsii_init = Path(locations[0]) / "_jsii" / "__init__.py"
    try:
        source = jsii_init.read_text(encoding="utf-8")
    except OSError:
        return f"{jsii_init} is missing"
    if "JSIIAssembly.load(" not in source:
        return f"{jsii_init} does not load a jsii assembly"
    return None


def _kernel_running() -> bool:
    """True once any jsii assembly is loaded: the kernel process has started, with its
    environment (and so NODE_OPTIONS) fixed."""
    return any(name.endswith("._jsii") for name in sys.modules)


def _node_options(current: str | None) -> str:
    hook = str(NODE_HOOK).replace("\\", "\\\\").replace('"', '\\"')
    return f'{current or ""} --require "{hook}"'.strip()


def _lightweight_package(spec) -> types.ModuleType:
    module = importlib.util.module_from_spec(spec)  # __spec__, __path__, __file__, no exec
    directory = Path(spec.submodule_search_locations[0])

    def __getattr__(name: str):
        # `cdktf_cdktf_provider_aws.vpc` without importing it first, and `import *`, as with
        # the eager package.
        if name == "__all__":
            return sorted(entry.name for entry in directory.iterdir()
                          if not entry.name.startswith("_") and (entry / "__init__.py").is_file())
        if not name.startswith("_") and (directory / name / "__init__.py").is_file():
            return importlib.import_module(f"{PACKAGE}.{name}")
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__
    return module


class _SubmoduleMap(dict):
    """jsii's map from a namespace FQN to the Python module holding its types, which also
    answers for the provider's namespaces: "@cdktf/provider-aws.lexv2ModelsBot" gives
    "cdktf_cdktf_provider_aws.lexv2_models_bot" (names compared without "_" and case; no two
    submodules of the provider are the same that way)."""

    def __init__(self, entries, prefix: str, directory: str):
        super().__init__(entries)
        self._prefix, self._directory, self._names = prefix, directory, None

    def __bool__(self) -> bool:  # jsii consults the map only when it is not empty
        return True

    def get(self, key, default=None):
        found = super().get(key)
        if found is not None or not isinstance(key, str) or not key.startswith(self._prefix):
            return default if found is None else found
        if self._names is None:
            self._names = {entry.name.replace("_", "").lower(): entry.name
                           for entry in os.scandir(self._directory)
                           if entry.is_dir() and not entry.name.startswith("_")}
        name = self._names.get(key[len(self._prefix):].lower())
        return f"{PACKAGE}.{name}" if name else default


def _let_jsii_find_submodules(assembly_name: str | None, directory: str) -> None:
    """When JavaScript hands Python an object whose class is in a submodule not imported yet,
    the jsii runtime (1.142 here) imports that submodule as named by
    `_reference_map._submodule_fqn_map`, else the package root: the eager root registered every
    type, the lightweight one none. This provider ships no such map, so this gives jsii one.
    A jsii without that attribute is left alone."""
    try:
        from jsii import _reference_map
    except ImportError:
        return
    if not isinstance(assembly_name, str):
        return
    current = getattr(_reference_map, "_submodule_fqn_map", None)
    if isinstance(current, dict) and not isinstance(current, _SubmoduleMap):
        _reference_map._submodule_fqn_map = _SubmoduleMap(current, assembly_name + ".", directory)


def _forget_package() -> None:
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def activate(environ=None) -> str:
    """Install the lightweight provider package (see the module docstring); returns `status`.
    Call it before anything imports cdktf_cdktf_provider_aws; calling it again does nothing.
    `environ` (default os.environ) is only read for $CDKTF_FAST_IMPORT."""
    global status
    environ = os.environ if environ is None else environ
    if PACKAGE in sys.modules:
        if status == "inactive":
            status = "loaded"
        return status
    if not enabled(environ):
        status = "off"
        return status
    problem = _package_layout(importlib.util.find_spec(PACKAGE))
    if problem:
        return _fallback(problem)

    node_hook = not _kernel_running() and NODE_HOOK.is_file()
    saved = os.environ.get("NODE_OPTIONS")
    module = _lightweight_package(importlib.util.find_spec(PACKAGE))
    sys.modules[PACKAGE] = module
    try:
        if node_hook:
            # The kernel copies os.environ once, when the first assembly loads (just below).
            os.environ["NODE_OPTIONS"] = _node_options(saved)
        assembly = importlib.import_module(f"{PACKAGE}._jsii")
        module.__jsii_assembly__ = assembly.__jsii_assembly__
        _let_jsii_find_submodules(getattr(assembly.__jsii_assembly__, "name", None),
                                  module.__path__[0])
    except Exception as error:  # noqa: BLE001 - any surprise means: use the normal import
        _forget_package()
        return _fallback(f"{type(error).__name__}: {error}")
    finally:
        if node_hook:
            if saved is None:
                os.environ.pop("NODE_OPTIONS", None)
            else:
                os.environ["NODE_OPTIONS"] = saved
    status = "fast" if node_hook else "fast-python"
    return status


def _fallback(reason: str) -> str:
    """The normal (eager) import; its errors, if any, are the real ones."""
    global status
    status = f"fallback: {reason}"
    importlib.import_module(PACKAGE)
    return status
