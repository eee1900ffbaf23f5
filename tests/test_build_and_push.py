"""scripts/build_and_push.py: the command sequence (no Docker engine runs here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_and_push.py"
REGISTRY = "123456789012.dkr.ecr.ap-south-1.amazonaws.com"


def load_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_and_push", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_prints_build_tag_login_push_in_order():
    module = load_script()
    steps = module.commands(registry=REGISTRY, repository="hello-world/hello-world",
                            region="ap-south-1", tag="3f9c2e1a7b4d", context=".",
                            push_latest=False)
    image = f"{REGISTRY}/hello-world/hello-world"
    assert steps == [
        ["docker", "build", "--pull", "-t", f"{image}:3f9c2e1a7b4d", "-t", f"{image}:latest",
         "."],
        f"aws ecr get-login-password --region ap-south-1 | docker login --username AWS "
        f"--password-stdin {REGISTRY}",
        ["docker", "push", f"{image}:3f9c2e1a7b4d"],
    ]
    with_latest = module.commands(registry=REGISTRY, repository="r", region="ap-south-1",
                                  tag="t", context=".", push_latest=True)
    assert with_latest[-1] == ["docker", "push", f"{REGISTRY}/r:latest"]


def test_cli_refuses_an_environment_on_a_public_image():
    result = subprocess.run([sys.executable, str(SCRIPT), "--env", "uat", "--dry-run",
                             "--account", "123456789012"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: environments/uat.toml: service.ecr_repository = false: this environment runs "
        "a public image; set it to true to build and push")


def test_cli_dry_run_for_an_ecr_environment(tmp_path):
    environments = tmp_path / "environments"
    environments.mkdir()
    text = (ROOT / "environments" / "prod.toml").read_text().replace(
        "[service]\n", '[service]\necr_repository = true\nimage_tag = "abc123"\n', 1)
    (environments / "prod.toml").write_text(text)
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r});"
            "import importlib.util as u;"
            f"spec = u.spec_from_file_location('b', {str(SCRIPT)!r});"
            "m = u.module_from_spec(spec); spec.loader.exec_module(m);"
            f"m.ROOT = __import__('pathlib').Path({str(tmp_path)!r});"
            "m.git_commit = lambda short=12: 'deadbeef1234';"
            "sys.exit(m.main(['--env', 'prod', '--dry-run', '--account', '123456789012']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    image = f"{REGISTRY}/hello-world/hello-world"
    assert lines == [
        f"+ docker build --pull -t {image}:deadbeef1234 -t {image}:latest .",
        f"+ aws ecr get-login-password --region ap-south-1 | docker login --username AWS "
        f"--password-stdin {REGISTRY}",
        f"+ docker push {image}:deadbeef1234",
        'image tag: deadbeef1234  (set service.image_tag = "deadbeef1234" in '
        "environments/prod.toml, then deploy)",
    ]
