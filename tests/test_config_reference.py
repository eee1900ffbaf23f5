"""docs/configuration.md's reference table is what ops.config_reference writes from the config
dataclasses' field comments and the props' defaults: it cannot drift from the code. And no
default is written twice: a key the constructs use has its default on the prop only."""

import dataclasses
import typing

import pytest

import config
from config.loading import unset_allowed
from ops import config_reference
from stacks.props import SOURCES


def test_the_committed_reference_is_what_the_generator_writes():
    current = config_reference.DOC.read_text()
    assert config_reference.render(current) == current, "docs/configuration.md is out of date: make docs"
    assert config_reference.main(["--check"]) == 0


def _leaves(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = unset_allowed(hints[f.name])
        if f.metadata.get("internal"):
            continue
        if dataclasses.is_dataclass(hint):
            yield from _leaves(hint, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f


def test_every_field_appears_with_its_default():
    document = config_reference.DOC.read_text()
    for path, f in _leaves(config.EnvironmentConfig):
        if path == "name":
            continue  # from the file name, not a key
        row = next((line for line in document.splitlines() if line.startswith(f"| `{path}` |")),
                   None)
        assert row, f"docs/configuration.md does not document {path}"
        default = f.default
        if default is None:  # unset: the prop's default, when the prop has one
            found, default = config_reference.props_default(path)
            if not found or default is None:
                assert "| unset |" in row, row
                continue
        if default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            assert "| required |" in row, row
        elif isinstance(default, (int, str)) and not isinstance(default, bool):
            shown = f'`"{default.value if hasattr(default, "value") else default}"`' \
                if isinstance(default, str) else f"`{default}`"
            assert f"| {shown} |" in row, f"wrong default for {path}: {row}"


def test_a_field_without_a_comment_stops_the_generator_naming_it():
    source = '''
class Example:
    documented: int = 1  # on its line
    # above it
    above: int = 2
    bare: int = 3
'''
    comments = config_reference.field_comments(source)
    assert comments[("Example", "documented")] == "on its line"
    assert comments[("Example", "above")] == "above it"
    assert comments[("Example", "bare")] == ""

    @dataclasses.dataclass
    class Example:
        documented: int = 1
        bare: int = 3

    with pytest.raises(config_reference.ReferenceError,
                       match=r"^config/schema.py: Example.bare has no comment"):
        list(config_reference.rows(Example, comments=comments))


def test_a_stale_table_is_reported_in_one_line(tmp_path, monkeypatch, capsys):
    stale = config_reference.DOC.read_text().replace("| `region` | string | required |",
                                                     "| `region` | string | `\"x\"` |")
    doc = tmp_path / "configuration.md"
    doc.write_text(stale)
    monkeypatch.setattr(config_reference, "DOC", doc)
    monkeypatch.setattr(config_reference, "ROOT", tmp_path)
    assert config_reference.main(["--check"]) == 1
    assert capsys.readouterr().err == "error: configuration.md is out of date; run make docs\n"
    assert config_reference.main([]) == 0
    assert doc.read_text() == config_reference.render(stale) != stale


def test_no_default_is_written_twice():
    """Every config key a prop takes is unset (None) in the config when the prop has a default,
    so the prop's default is the only one; every prop a key maps onto exists."""
    fields = dict(_leaves(config.EnvironmentConfig))
    mapped = set()
    for cls, sources in SOURCES.items():
        for prop, path in sources.items():
            props_field = cls.__dataclass_fields__[prop]  # KeyError: a prop that is not there
            has_default = (props_field.default is not dataclasses.MISSING
                           or props_field.default_factory is not dataclasses.MISSING)
            if has_default:
                assert fields[path].default is None, (
                    f"{path} has its own default; {cls.__name__}.{prop} already has one: make "
                    f"the key unset (None) so that the prop's default applies")
            mapped.add(path)
    # Keys with a default of their own are the config's: no prop takes them (but the AZ list,
    # empty until a file lists them, which NetworkProps, requiring them, then refuses).
    own = {path for path, f in fields.items() if f.default not in (None, dataclasses.MISSING)}
    assert own & mapped == {"network.availability_zones"}
