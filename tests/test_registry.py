"""The one registry kind: clashes raise, unknown names and options raise with the valid ones, None is passed on."""

from __future__ import annotations

import pytest

from advlab.registry import Registry, accepted_options


class Widget:
    def __init__(self, size: int = 1, *, colour: str | None = "red"):
        self.size, self.colour = size, colour


def test_register_and_create_passes_every_option_including_none():
    reg: Registry[type[Widget]] = Registry("widget")
    reg.register("big-widget", Widget)
    w = reg.create("big-widget", size=3, colour=None)
    assert (w.size, w.colour) == (3, None)  # None reaches the factory: nothing silently dropped
    assert "BIG-WIDGET" in reg and reg.get(" Big-Widget ") is Widget


def test_decorator_form_registers_and_returns_the_class():
    reg: Registry[type] = Registry("thing")

    @reg.register("a")
    class A:
        pass

    assert reg.get("a") is A and reg.names() == ["a"] and len(reg) == 1


def test_a_clash_raises_instead_of_overwriting():
    reg: Registry[object] = Registry("attack")
    reg.register("pgd", Widget)
    reg.register("pgd", Widget)  # the same entry again (module re-import) is harmless
    with pytest.raises(ValueError, match="already registered"):
        reg.register("pgd", object)
    assert reg.get("pgd") is Widget


def test_unknown_name_lists_the_valid_ones_and_suggests_a_close_one():
    reg: Registry[object] = Registry("model")
    reg.register("cnn-small", Widget)
    reg.register("mlp", Widget)
    with pytest.raises(ValueError, match=r"did you mean 'cnn-small'.*\['cnn-small', 'mlp'\]"):
        reg.get("cnn-smal")
    with pytest.raises(TypeError, match="string"):
        reg.get(3)  # type: ignore[arg-type]


def test_unknown_option_lists_the_valid_ones():
    reg: Registry[type[Widget]] = Registry("widget")
    reg.register("w", Widget)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['weight'\]; expected some of \['colour', 'size'\]"):
        reg.create("w", weight=2)


@pytest.mark.parametrize("bad", ["", "Has Space", "UPPER", "under_score", "-lead"])
def test_names_are_kebab_case(bad):
    with pytest.raises(ValueError, match="kebab-case"):
        Registry("x").register(bad, Widget)


def test_accepted_options_is_none_for_kwargs_factories():
    assert accepted_options(lambda **kw: kw) is None
    assert accepted_options(Widget) == ["colour", "size"]


def test_a_missing_required_option_is_named():
    class NeedsEps:
        def __init__(self, eps: float, steps: int = 1):
            self.eps = eps

    reg: Registry[type] = Registry("method")
    reg.register("needs-eps", NeedsEps)
    with pytest.raises(ValueError, match=r"method 'needs-eps': missing required option\(s\) \['eps'\]"):
        reg.create("needs-eps", steps=3)
