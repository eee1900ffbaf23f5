"""constructs_lib/provider_import.py (README "Synth speed"): the same JSON with and without it,
and the normal import whenever the installed package is not the layout it knows."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from constructs_lib import provider_import

ROOT = Path(__file__).resolve().parent.parent

# main.main() in a fresh interpreter, then what the import did: the shim's status and how many
# provider submodules Python loaded. It ends with the atexit handlers (the jsii kernel's stop)
# but without the interpreter's teardown, which takes seconds after the eager import.
RUN_MAIN = """
import atexit, os, sys
import main
code = main.main()
from constructs_lib import provider_import
loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
print(provider_import.status, len(loaded), flush=True)
atexit._run_exitfuncs()
os._exit(code)
"""


def _synth_env(outdir: Path, fast: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("ENVIRONMENTS", "NODE_OPTIONS", "CDKTF_FAST_IMPORT")}
    return dict(env, CDKTF_OUTDIR=str(outdir), CDKTF_FAST_IMPORT=fast)


def _files(outdir: Path) -> dict:
    return {str(path.relative_to(outdir)): path.read_bytes()
            for path in sorted(outdir.rglob("*")) if path.is_file()}


def test_synthesized_json_is_byte_identical_with_and_without_fast_import(tmp_path):
    """Every file main.py writes (manifest.json and everything under stacks/), with
    CDKTF_FAST_IMPORT on and off, in two fresh processes run side by side."""
    runs = {}
    for fast in ("1", "0"):
        outdir = tmp_path / f"fast-{fast}"
        runs[fast] = (outdir, subprocess.Popen(
            [sys.executable, "-c", RUN_MAIN], cwd=ROOT, env=_synth_env(outdir, fast),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for fast, (outdir, process) in runs.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        status, loaded = stdout.split()[-2:]
        results[fast] = (status, int(loaded), _files(outdir))

    fast_status, fast_loaded, fast_files = results["1"]
    eager_status, eager_loaded, eager_files = results["0"]
    assert fast_status == "fast"  # Python and node both took the lazy path
    assert eager_status == "off"
    assert fast_loaded < 200 < 2000 < eager_loaded  # a few dozen vs all ~2,100
    stacks = [name for name in eager_files if name.startswith("stacks/")]
    assert {Path(name).parts[1] for name in stacks} >= {"network-uat", "app-uat", "state-uat",
                                                       "network-prod", "app-prod", "state-prod"}
    assert sorted(fast_files) == sorted(eager_files)
    for name, content in eager_files.items():
        assert fast_files[name] == content, f"{name} differs with CDKTF_FAST_IMPORT=1"


# Unit tests of activate() against small fake packages, with provider_import.PACKAGE pointed at
# them: this session already imported the real provider, which must stay as it is.

FAKE = "fake_provider_for_import_tests"


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package laid out like cdktf_cdktf_provider_aws: an eager __init__ (which records that
    it ran), a _jsii module that "loads the assembly", and two submodules."""
    package = tmp_path / FAKE
    (package / "_jsii").mkdir(parents=True)
    (package / "__init__.py").write_text("EAGER = True\nfrom . import alpha, beta\n")
    (package / "_jsii" / "__init__.py").write_text(
        '__jsii_assembly__ = "assembly"  # jsii.JSIIAssembly.load(...)\n')
    for name in ("alpha", "beta"):
        (package / name).mkdir()
        (package / name / "__init__.py").write_text(
            f"from .._jsii import *\nNAME = {name!r}\n__all__ = ['NAME']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(provider_import, "PACKAGE", FAKE)
    monkeypatch.setattr(provider_import, "status", "inactive")
    yield package
    for name in [name for name in sys.modules if name.split(".")[0] == FAKE]:
        del sys.modules[name]


def test_fast_import_loads_only_the_submodules_used(fake_package):
    # The jsii kernel of this session is running, so node keeps its index: "fast-python".
    assert provider_import.activate() == "fast-python"
    package = sys.modules[FAKE]
    assert not hasattr(package, "EAGER")  # the package __init__ did not run
    assert package.__jsii_assembly__ == "assembly"
    assert f"{FAKE}.alpha" not in sys.modules

    from fake_provider_for_import_tests.alpha import NAME

    assert NAME == "alpha" and f"{FAKE}.beta" not in sys.modules
    assert package.beta.NAME == "beta"  # attribute access imports, as the eager package did
    assert package.__all__ == ["alpha", "beta"]
    with pytest.raises(AttributeError):
        package.gamma
    assert provider_import.activate() == "fast-python"  # once only
    assert "NODE_OPTIONS" not in os.environ or "provider_import_hook" not in os.environ[
        "NODE_OPTIONS"]


@pytest.mark.parametrize("value", ["0", "false", "off", " No "])
def test_off_switch_leaves_the_import_alone(fake_package, value):
    assert provider_import.activate({"CDKTF_FAST_IMPORT": value}) == "off"
    assert FAKE not in sys.modules  # the normal import happens wherever the code imports it


def test_package_already_imported_is_left_as_it_is(fake_package):
    __import__(FAKE)
    assert provider_import.activate() == "loaded"
    assert sys.modules[FAKE].EAGER


def test_missing_jsii_module_falls_back_to_the_normal_import(fake_package):
    shutil.rmtree(fake_package / "_jsii")
    (fake_package / "__init__.py").write_text("EAGER = True\n")
    status = provider_import.activate()
    assert status.startswith("fallback: ") and "_jsii" in status
    assert sys.modules[FAKE].EAGER


def test_jsii_module_of_another_shape_falls_back(fake_package):
    (fake_package / "_jsii" / "__init__.py").write_text("ASSEMBLY = None\n")
    assert provider_import.activate() == (
        f"fallback: {fake_package / '_jsii' / '__init__.py'} does not load a jsii assembly")
    assert sys.modules[FAKE].EAGER


def test_namespace_package_falls_back(fake_package):
    (fake_package / "__init__.py").unlink()
    shutil.rmtree(fake_package / "_jsii")
    status = provider_import.activate()
    assert status == f"fallback: {FAKE} is not a regular package"


def test_failing_assembly_load_falls_back_and_leaves_no_half_package(fake_package):
    (fake_package / "_jsii" / "__init__.py").write_text(
        "# JSIIAssembly.load(\nraise RuntimeError('kernel says no')\n")
    (fake_package / "__init__.py").write_text("EAGER = True\n")
    status = provider_import.activate()
    assert status == "fallback: RuntimeError: kernel says no"
    assert sys.modules[FAKE].EAGER  # the eager package, not the lightweight one
    assert f"{FAKE}._jsii" not in sys.modules


def test_package_not_installed_raises_the_normal_import_error(monkeypatch):
    monkeypatch.setattr(provider_import, "PACKAGE", "no_such_provider_package")
    monkeypatch.setattr(provider_import, "status", "inactive")
    with pytest.raises(ModuleNotFoundError):
        provider_import.activate()


def test_a_type_first_met_in_a_value_from_javascript_imports_its_submodule():
    """jsii turns an object reference into an instance of the type's Python class; with the
    lightweight package that class may not be imported yet: it is, on demand, as eagerly."""
    import jsii
    from jsii._kernel.types import ObjRef
    from jsii._reference_map import resolve_reference

    if not provider_import.status.startswith("fast"):
        pytest.skip(f"provider import is {provider_import.status!r} in this session")
    instance = resolve_reference(
        jsii.kernel, ObjRef(ref="@cdktf/provider-aws.lexv2ModelsBot.Lexv2ModelsBot@99999999"))
    assert type(instance).__module__ == "cdktf_cdktf_provider_aws.lexv2_models_bot"


def test_node_options_keep_what_was_there():
    hook = str(provider_import.NODE_HOOK)
    assert provider_import._node_options(None) == f'--require "{hook}"'
    assert provider_import._node_options("--max-old-space-size=8192") == (
        f'--max-old-space-size=8192 --require "{hook}"')


# The node side: provider_import_hook.js's rewrite of an index.js, run by node.

NODE_CHECK = textwrap.dedent("""
    const fs = require('fs'); const path = require('path');
    const { lazyIndex } = require(process.argv[1]);
    const dir = process.argv[2];
    const eager = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    const lazy = lazyIndex(eager);
    fs.writeFileSync(path.join(dir, 'lazy.js'), lazy);
    globalThis.loaded = [];
    const index = require(path.join(dir, 'lazy.js'));
    const before = [...globalThis.loaded];
    const value = index.vpcEndpoint.NAME;
    console.log(JSON.stringify({
      before, after: globalThis.loaded, value, keys: Object.keys(index),
      again: index.vpcEndpoint === require(path.join(dir, 'vpc-endpoint')),
      other: lazyIndex(eager + 'console.log("side effect");\\n') === undefined,
    }));
""")


def test_node_hook_makes_the_index_lazy_and_leaves_other_shapes_alone(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    (tmp_path / "index.js").write_text(textwrap.dedent("""\
        "use strict";
        /**
         * header
         */
        Object.defineProperty(exports, "__esModule", { value: true });
        exports.vpcEndpoint = exports.vpc = void 0;
        // generated by cdktf get
        exports.vpc = require("./vpc");
        exports.vpcEndpoint = require("./vpc-endpoint");
        //# sourceMappingURL=data:application/json;base64,e30=
        """))
    for name, export in (("vpc", "vpc"), ("vpc-endpoint", "vpcEndpoint")):
        (tmp_path / f"{name}.js").write_text(
            f'globalThis.loaded.push("{name}"); exports.NAME = "{export}";\n')
    result = subprocess.run([node, "-e", NODE_CHECK, str(provider_import.NODE_HOOK),
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["before"] == []  # nothing required up front
    assert outcome["after"] == ["vpc-endpoint"]  # only what was looked up
    assert outcome["value"] == "vpcEndpoint" and outcome["again"]
    assert outcome["keys"] == ["vpc", "vpcEndpoint"]
    assert outcome["other"]  # an unexpected statement: the file is loaded as it is
