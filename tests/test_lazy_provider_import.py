"""lazy_provider_import/ (bench/README.md "Synth speed"): the same JSON with and without it,
and a loud stop at activation, before anything changes, whenever what it relies on is not what
it was written for."""

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

import lazy_provider_import

ROOT = Path(__file__).resolve().parent.parent

# main.main() in a fresh interpreter, then what the import did: the shim's status and how many
# provider submodules Python loaded. It ends with the atexit handlers (the jsii kernel's stop)
# but without the interpreter's teardown, which takes seconds after the eager import.
RUN_MAIN = """
import atexit, os, sys
import main
code = main.main()
import lazy_provider_import
loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
print(lazy_provider_import.status, len(loaded), flush=True)
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


# Unit tests of activate() against small fake packages, with lazy_provider_import.PACKAGE
# pointed at them: this session already imported the real provider, which must stay as it is.

FAKE = "fake_provider_for_import_tests"
OFF_HINT = ("; set CDKTF_FAST_IMPORT=0 to use the normal import, or check it "
            "(pytest tests/test_lazy_provider_import.py) and update WRITTEN_FOR")


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package laid out like cdktf_cdktf_provider_aws: an eager __init__ (which records that
    it ran), a _jsii module that "loads the assembly", and two submodules."""
    from jsii import _reference_map

    package = tmp_path / FAKE
    (package / "_jsii").mkdir(parents=True)
    (package / "__init__.py").write_text("EAGER = True\nfrom . import alpha, beta\n")
    (package / "_jsii" / "__init__.py").write_text(
        "class _Assembly:  # what jsii.JSIIAssembly.load( returns\n"
        "    name = 'fake-provider'\n"
        "__jsii_assembly__ = _Assembly()\n")
    for name in ("alpha", "beta"):
        (package / name).mkdir()
        (package / name / "__init__.py").write_text(
            f"from .._jsii import *\nNAME = {name!r}\n__all__ = ['NAME']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(lazy_provider_import, "PACKAGE", FAKE)
    monkeypatch.setattr(lazy_provider_import, "status", "inactive")
    monkeypatch.setattr(_reference_map, "_submodule_fqn_map", _reference_map._submodule_fqn_map)
    yield package
    for name in [name for name in sys.modules if name.split(".")[0] == FAKE]:
        del sys.modules[name]


def _refused(message: str) -> str:
    return f"fast provider import (lazy_provider_import/): {message}{OFF_HINT}"


def _activate_refuses() -> str:
    """activate() raises FastImportError and leaves sys.modules and NODE_OPTIONS as they were."""
    node_options = os.environ.get("NODE_OPTIONS")
    with pytest.raises(lazy_provider_import.FastImportError) as raised:
        lazy_provider_import.activate()
    assert FAKE not in sys.modules and f"{FAKE}._jsii" not in sys.modules
    assert os.environ.get("NODE_OPTIONS") == node_options
    assert lazy_provider_import.status == "inactive"
    return str(raised.value)


def test_fast_import_loads_only_the_submodules_used(fake_package):
    # The jsii kernel of this session is running, so node keeps its index: "fast-python".
    assert lazy_provider_import.activate() == "fast-python"
    package = sys.modules[FAKE]
    assert not hasattr(package, "EAGER")  # the package __init__ did not run
    assert package.__jsii_assembly__.name == "fake-provider"
    assert f"{FAKE}.alpha" not in sys.modules

    from fake_provider_for_import_tests.alpha import NAME

    assert NAME == "alpha" and f"{FAKE}.beta" not in sys.modules
    assert package.beta.NAME == "beta"  # attribute access imports, as the eager package did
    assert package.__all__ == ["alpha", "beta"]
    with pytest.raises(AttributeError):
        package.gamma
    assert lazy_provider_import.activate() == "fast-python"  # once only
    assert "index_hook" not in os.environ.get("NODE_OPTIONS", "")


@pytest.mark.parametrize("value", ["0", "false", "off", " No "])
def test_off_switch_leaves_the_import_alone(fake_package, monkeypatch, value):
    monkeypatch.setitem(lazy_provider_import.WRITTEN_FOR, "jsii", ("0.0.1",))  # not even checked
    assert lazy_provider_import.activate({"CDKTF_FAST_IMPORT": value}) == "off"
    assert FAKE not in sys.modules  # the normal import happens wherever the code imports it


def test_package_already_imported_is_left_as_it_is(fake_package):
    __import__(FAKE)
    assert lazy_provider_import.activate() == "loaded"
    assert sys.modules[FAKE].EAGER


@pytest.mark.parametrize("distribution", ["jsii", "cdktf-cdktf-provider-aws"])
def test_another_installed_version_stops_activation(fake_package, monkeypatch, distribution):
    monkeypatch.setitem(lazy_provider_import.WRITTEN_FOR, distribution, ("0.0.1", "0.0.2"))
    installed = importlib.metadata.version(distribution)
    assert _activate_refuses() == _refused(
        f"written for {distribution} 0.0.1 or 0.0.2, but {installed} is installed")


def test_a_distribution_not_installed_stops_activation(fake_package, monkeypatch):
    monkeypatch.setitem(lazy_provider_import.WRITTEN_FOR, "no-such-distribution", ("1.0",))
    assert _activate_refuses() == _refused("no-such-distribution is not installed")


def test_jsii_without_the_private_map_stops_activation(fake_package, monkeypatch):
    from jsii import _reference_map

    monkeypatch.delattr(_reference_map, "_submodule_fqn_map")
    assert _activate_refuses() == _refused(
        "jsii._reference_map._submodule_fqn_map is gone or no longer a dict")


def test_missing_jsii_module_stops_activation(fake_package):
    shutil.rmtree(fake_package / "_jsii")
    assert _activate_refuses() == _refused(f"{fake_package / '_jsii' / '__init__.py'} is missing")


def test_jsii_module_of_another_shape_stops_activation(fake_package):
    (fake_package / "_jsii" / "__init__.py").write_text("ASSEMBLY = None\n")
    assert _activate_refuses() == _refused(
        f"{fake_package / '_jsii' / '__init__.py'} does not load a jsii assembly")


def test_namespace_package_stops_activation(fake_package):
    (fake_package / "__init__.py").unlink()
    assert _activate_refuses() == _refused(f"{FAKE} is not a regular package")


def test_failing_assembly_load_stops_activation_and_leaves_no_half_package(fake_package):
    (fake_package / "_jsii" / "__init__.py").write_text(
        "# JSIIAssembly.load(\nraise RuntimeError('kernel says no\\nat line 2')\n")
    assert _activate_refuses() == _refused(
        f"loading {FAKE}._jsii failed (RuntimeError: kernel says no)")


def test_package_not_installed_raises_the_normal_import_error(monkeypatch):
    monkeypatch.setattr(lazy_provider_import, "PACKAGE", "no_such_provider_package")
    monkeypatch.setattr(lazy_provider_import, "status", "inactive")
    with pytest.raises(ModuleNotFoundError):
        lazy_provider_import.activate()


def test_main_stops_with_one_line_before_building_anything(tmp_path):
    """python main.py after a jsii upgrade: one error line, exit 1, nothing synthesized."""
    outdir = tmp_path / "cdktf.out"
    program = ("import sys, lazy_provider_import\n"
               "lazy_provider_import.WRITTEN_FOR['jsii'] = ('0.0.1',)\n"
               "import main\n"
               "code = main.main()\n"
               "assert 'cdktf_cdktf_provider_aws' not in sys.modules and 'cdktf' not in sys.modules\n"
               "sys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True,
                            text=True, env=_synth_env(outdir, "1"), timeout=120)
    installed = importlib.metadata.version("jsii")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: " + _refused(
        f"written for jsii 0.0.1, but {installed} is installed") + "\n"
    assert not outdir.exists()


def test_a_type_first_met_in_a_value_from_javascript_imports_its_submodule():
    """jsii turns an object reference into an instance of the type's Python class; with the
    lightweight package that class may not be imported yet: it is, on demand, as eagerly."""
    import jsii
    from jsii._kernel.types import ObjRef
    from jsii._reference_map import resolve_reference

    if not lazy_provider_import.status.startswith("fast"):
        pytest.skip(f"provider import is {lazy_provider_import.status!r} in this session")
    instance = resolve_reference(
        jsii.kernel, ObjRef(ref="@cdktf/provider-aws.lexv2ModelsBot.Lexv2ModelsBot@99999999"))
    assert type(instance).__module__ == "cdktf_cdktf_provider_aws.lexv2_models_bot"


def test_node_options_keep_what_was_there():
    hook = str(lazy_provider_import.NODE_HOOK)
    assert lazy_provider_import._node_options(None) == f'--require "{hook}"'
    assert lazy_provider_import._node_options("--max-old-space-size=8192") == (
        f'--max-old-space-size=8192 --require "{hook}"')


# The node side: index_hook.js's rewrite of an index.js, run by node.

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
    result = subprocess.run([node, "-e", NODE_CHECK, str(lazy_provider_import.NODE_HOOK),
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["before"] == []  # nothing required up front
    assert outcome["after"] == ["vpc-endpoint"]  # only what was looked up
    assert outcome["value"] == "vpcEndpoint" and outcome["again"]
    assert outcome["keys"] == ["vpc", "vpcEndpoint"]
    assert outcome["other"]  # an unexpected statement: the file is loaded as it is


def test_node_hook_rewrites_the_installed_provider_index(tmp_path):
    """The index.js inside the installed provider's jsii tarball is of the shape the hook makes
    lazy (else node would load it eagerly: the same objects, but all ~2,100 modules)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    jsii_dir = Path(importlib.util.find_spec("cdktf_cdktf_provider_aws").origin).parent / "_jsii"
    (tarball,) = jsii_dir.glob("*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        index = archive.extractfile("package/lib/index.js").read().decode()
    (tmp_path / "index.js").write_text(index)
    check = ("const { lazyIndex } = require(process.argv[1]);"
             "const lazy = lazyIndex(require('fs').readFileSync(process.argv[2], 'utf8'));"
             "console.log(lazy === undefined ? -1 : (lazy.match(/^__lazy\\(/gm) || []).length);")
    result = subprocess.run([node, "-e", check, str(lazy_provider_import.NODE_HOOK),
                             str(tmp_path / "index.js")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == index.count(" = require(\"./") > 2000
