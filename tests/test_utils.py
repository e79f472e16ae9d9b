"""fs.utils.show_source: the real source of the library, displayable in Jupyter."""

import inspect

import pytest

import from_scratch as fs


def test_show_source_of_a_class_is_its_real_source():
    src = fs.utils.show_source(fs.ops.Mul)
    assert "def backward" in src
    assert src.text == inspect.getsource(fs.ops.Mul)
    assert repr(src).startswith("# from_scratch/ops.py: Mul\nclass Mul(Function):")
    assert str(src) == repr(src)


def test_show_source_renders_as_a_python_block_in_jupyter():
    md = fs.utils.show_source(fs.ops.unbroadcast)._repr_markdown_()
    assert md.startswith("```python\n# from_scratch/ops.py: unbroadcast\ndef unbroadcast(")
    assert md.endswith("\n```")


def test_show_source_of_a_method_is_dedented():
    src = fs.utils.show_source(fs.autograd.Function.apply)
    assert src.text.startswith("@classmethod\ndef apply(")
    assert src.name == "Function.apply"
    compile(src.text, "<apply>", "exec")  # dedented source is valid Python again


def test_show_source_of_functions_and_modules():
    src = fs.utils.show_source(fs.autograd.topological_order)
    assert src.text.startswith("def topological_order(root)")
    assert len(src) == len(inspect.getsource(fs.autograd.topological_order).splitlines())
    module = fs.utils.show_source(fs.autograd)
    assert module.location == "from_scratch/autograd.py"
    assert "def topological_order" in module and "class Function" in module


def test_show_source_of_a_builtin_explains():
    with pytest.raises(TypeError, match="built-ins"):
        fs.utils.show_source(len)
