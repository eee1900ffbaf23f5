"""A workaround for slow synths: load only the parts of the AWS provider bindings a program uses
(GitHub issues #6, #12; bench/README.md "Synth speed"). Off with `CDKTF_FAST_IMPORT=0`.

What it works around: `import cdktf_cdktf_provider_aws` costs ~9 s on every synth. The package
`__init__` imports all ~2,100 resource submodules (~7 s of Python), and the jsii kernel's node
process `require`s all ~2,100 JavaScript modules of @cdktf/provider-aws (~1.9 s). A program uses
a few dozen of each; neither jsii nor the provider offers a lazy mode. `activate()`, called
before the first provider import, removes both costs:

- Python: it puts a plain package object in `sys.modules` whose `__path__` is the installed
  package's directory, so `from cdktf_cdktf_provider_aws.vpc import Vpc` imports `vpc` and
  nothing else, and it imports the package's `_jsii` module, which registers the assembly with
  the kernel exactly as the package `__init__` would. jsii's private map from namespace to
  Python module is extended so that objects coming back from node find their submodule.
- node: while that first import starts the kernel, `NODE_OPTIONS` preloads `index_hook.js`,
  which turns the provider's lib/index.js into lazy getters as node compiles it.

Why it is fenced: it relies on private internals (`jsii._reference_map._submodule_fqn_map`, the
kernel copying `os.environ` when it starts, the generated package layout and index.js), checked
only with the versions in `WRITTEN_FOR`. `activate()` checks them first and raises
`FastImportError` (one line: what changed, how to turn this off) before it changes anything, so
a jsii or provider upgrade stops the program at its start, never in the middle of a synth.
Nothing installed is edited; the synthesized JSON is the same byte for byte
(tests/test_lazy_provider_import.py).

Where it still steps aside silently, that is provably harmless (the eager objects, only slower):
the provider already imported ("loaded"); the kernel already running, so node loads the whole
index ("fast-python"); an index.js of another shape, which the node hook loads as it is (the
provider version is pinned here, and a test checks that the installed index.js is rewritten).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
ENV_VAR = "CDKTF_FAST_IMPORT"
NODE_HOOK = Path(__file__).with_name("index_hook.js")
_OFF = {"0", "false", "no", "off"}

# The distributions whose internals this reaches into, at the versions it was checked with
# (tests/test_lazy_provider_import.py): after an upgrade, run that test and add the version.
WRITTEN_FOR = {
    "jsii": ("1.142.0",),
    "cdktf-cdktf-provider-aws": ("20.1.0",),
}

# What activate() did, for callers and tests: "fast" (Python and node), "fast-python" (the
# kernel was already running, so node loaded the full index), "off" ($CDKTF_FAST_IMPORT),
# "loaded" (the package was already imported).
status = "inactive"


class FastImportError(RuntimeError):
    """What the fast import relies on has changed; the message is one line for the user."""


def enabled(environ=os.environ) -> bool:
    return environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def _refuse(problem: str) -> FastImportError:
    return FastImportError(
        f"fast provider import (lazy_provider_import/): {problem}; set {ENV_VAR}=0 to use the "
        f"normal import, or check it (pytest tests/test_lazy_provider_import.py) and update "
        f"WRITTEN_FOR")


def _version_problem() -> str | None:
    for distribution, versions in WRITTEN_FOR.items():
        try:
            installed = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return f"{distribution} is not installed"
        if installed not in versions:
            return (f"written for {distribution} {' or '.join(versions)}, "
                    f"but {installed} is installed")
    return None


def _jsii_problem() -> str | None:
    """Why jsii's runtime lacks the private map this extends, or None."""
    try:
        from jsii import _reference_map
    except ImportError as error:
        return f"jsii._reference_map does not import ({error})"
    if not isinstance(getattr(_reference_map, "_submodule_fqn_map", None), dict):
        return "jsii._reference_map._submodule_fqn_map is gone or no longer a dict"
    return None


def _layout_problem(spec) -> str | None:
    """Why the installed package is not the layout the shim knows, or None if it is: a regular
    package with an `__init__.py` and a `_jsii/__init__.py` that loads the jsii assembly."""
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
    if not NODE_HOOK.is_file():
        return f"{NODE_HOOK} is missing"
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


def _let_jsii_find_submodules(assembly_name: str, directory: str) -> None:
    """When JavaScript hands Python an object whose class is in a submodule not imported yet,
    the jsii runtime imports that submodule as named by `_reference_map._submodule_fqn_map`,
    else the package root: the eager root registered every type, the lightweight one none.
    This provider ships no such map, so this gives jsii one (its presence is checked first)."""
    from jsii import _reference_map

    current = _reference_map._submodule_fqn_map
    if not isinstance(current, _SubmoduleMap):
        _reference_map._submodule_fqn_map = _SubmoduleMap(current, assembly_name + ".", directory)


def _forget_package() -> None:
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def check() -> None:
    """Raise FastImportError if the installed jsii or provider is not what this was written
    for; nothing is changed. A provider that is not installed raises the normal import error."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        importlib.import_module(PACKAGE)  # ModuleNotFoundError, as without this shim
    problem = _version_problem() or _jsii_problem() or _layout_problem(spec)
    if problem:
        raise _refuse(problem)


def activate(environ=None) -> str:
    """Install the lightweight provider package (see the module docstring); returns `status`.
    Call it before anything imports cdktf_cdktf_provider_aws; calling it again does nothing.
    Raises FastImportError, before changing anything, when the installed versions or layout are
    not the ones it was written for. `environ` (default os.environ) is only read for
    $CDKTF_FAST_IMPORT."""
    global status
    environ = os.environ if environ is None else environ
    if PACKAGE in sys.modules:
        if status == "inactive":
            status = "loaded"
        return status
    if not enabled(environ):
        status = "off"
        return status
    check()

    node_hook = not _kernel_running()
    saved = os.environ.get("NODE_OPTIONS")
    module = _lightweight_package(importlib.util.find_spec(PACKAGE))
    sys.modules[PACKAGE] = module
    try:
        if node_hook:
            # The kernel copies os.environ once, when the first assembly loads (just below).
            os.environ["NODE_OPTIONS"] = _node_options(saved)
        assembly = importlib.import_module(f"{PACKAGE}._jsii")
        module.__jsii_assembly__ = assembly.__jsii_assembly__
        _let_jsii_find_submodules(assembly.__jsii_assembly__.name, module.__path__[0])
    except Exception as error:
        _forget_package()
        first_line = (str(error).splitlines() or [""])[0]
        raise _refuse(f"loading {PACKAGE}._jsii failed ({type(error).__name__}: "
                      f"{first_line})") from error
    finally:
        if node_hook:
            if saved is None:
                os.environ.pop("NODE_OPTIONS", None)
            else:
                os.environ["NODE_OPTIONS"] = saved
    status = "fast" if node_hook else "fast-python"
    return status
