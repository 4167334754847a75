"""Jinja as Tessera's pages use it, for less. A list page drawn anew writes some 2,200
values and makes some 400 calls; Jinja's own way of doing each cost more than the work
done. Two changes, each doing what Jinja does by a shorter way:

- ``Context.call``: a call to a plain function, method or macro goes straight to it.
  Jinja asks each callable, and then its ``__call__``, whether it wants the context
  passed first; a function, method or macro never has it on its ``__call__``.
- ``CodeGenerator``: a value written into HTML is escaped to a plain string, not made a
  ``Markup``: what a template writes is only joined (a macro's output, a ``set`` block's
  and a whole page's are made ``Markup`` or text whole, as before).

Together with the templates' kept texts (i18n) they took a list drawn anew from 57.3 to
40.0 million instructions (bench/instructions.py). They lean on Jinja's code generator
(``_output_child_pre``) and markupsafe's escaping of text (``_escape_inner``), so
pyproject.toml bounds both versions; tests/test_template_engine.py holds them to Jinja's
own results."""

from __future__ import annotations

from types import BuiltinFunctionType, FunctionType, MethodType

import jinja2
import jinja2.compiler
import jinja2.runtime
from flask.templating import Environment as FlaskEnvironment
from markupsafe import _escape_inner


class Context(jinja2.runtime.Context):
    @jinja2.utils.internalcode
    def call(__self, __obj, *args, **kwargs):
        """Jinja's ``Context.call``, with plain functions, methods and macros called
        straight away (with the context first, where marked for it). A callable that
        wants the context inside a loop or a block, or wants the evaluation context or
        the environment, goes Jinja's own way."""
        if type(__obj) not in _PLAIN:
            return super().call(__obj, *args, **kwargs)
        wants = getattr(__obj, "jinja_pass_arg", None)
        if kwargs:
            if wants is not None and (kwargs.get("_loop_vars") or kwargs.get("_block_vars")):
                return super().call(__obj, *args, **kwargs)
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        if wants is not None:
            if wants is not _WANTS_CONTEXT:
                return super().call(__obj, *args, **kwargs)
            args = (__self, *args)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


# What jinja2.pass_context marks a function with.
_WANTS_CONTEXT = jinja2.pass_context(lambda context: None).jinja_pass_arg
_PLAIN = frozenset((FunctionType, MethodType, BuiltinFunctionType, jinja2.runtime.Macro))


def escape_text(value) -> str:
    """``markupsafe.escape(value)`` as a plain string: what a template writes into HTML."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class CodeGenerator(jinja2.compiler.CodeGenerator):
    def _output_child_pre(self, node, frame, finalize) -> None:
        """Where Jinja writes ``escape(`` before a value it outputs into HTML, write
        ``environment.escape_text(`` (where autoescaping is decided while the template
        runs, Jinja's own)."""
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_text(")
        if finalize.src is not None:
            self.write(finalize.src)


class Environment(FlaskEnvironment):
    context_class = Context
    code_generator_class = CodeGenerator

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.escape_text = escape_text  # found in the instance, not bound on each use
