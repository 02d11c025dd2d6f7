"""Typed node parameters: one declaration per parameter, checked at start and on every change.

A node describes its parameters as a frozen dataclass whose fields are made with `parameter()`
(name = field name; nested dataclasses made with `group()` give dotted names such as
`orb.n_features`). NodeParameters declares them on the node with a ParameterDescriptor carrying the
description, the range (FloatingPointRange / IntegerRange) and read_only for the parameters that
cannot change at run time, so `ros2 param describe` shows all of it. Every value, from a parameter
file, an override or `ros2 param set`, passes the same check; a refused runtime change keeps the old
value and answers with the reason. The node reads the typed object `NodeParameters.values`.

    tools/run python -m mmchat_ros.parameters --markdown slam     # one node's table
    tools/run python -m mmchat_ros.parameters --readme README.md  # rewrite the README tables
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields, replace
import importlib
import math
from pathlib import Path
import re
import sys
from typing import Any, Callable, Generic, Iterable, TypeVar

#: node name -> module of the node (its NODE_CLASS has PARAMETERS and EXTRA_PARAMETERS).
NODE_MODULES: dict[str, str] = {
    name: f'mmchat_ros.nodes.{name}_node'
    for name in ('camera', 'sim', 'detector', 'gesture', 'slam', 'flight_controller')}
INT64 = 2 ** 63 - 1
S = TypeVar('S')


@dataclass(frozen=True)
class Declaration:
    """One parameter: name, default, description, allowed values, and whether it is dynamic.

    A dynamic parameter may change while the node runs; the others are read-only once declared.
    """

    name: str
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False           # the value must be above `minimum` (0 unless given)
    choices: tuple = ()
    dynamic: bool = False
    dynamic_typing: bool = False      # ints accepted for numbers (the controller's settings file)
    array_type: str | None = None     # 'string' for a string array that may stay unset

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed for this parameter, or None."""
        name = self.name
        if self.dynamic_typing and _kind(value) != _kind(self.default):
            return f'{name} must be {_kind(self.default)}, got {value!r}'
        if isinstance(value, float) and not math.isfinite(value):
            return f'{name} must be finite, got {value}'
        if self.choices and value not in self.choices:
            return f"{name} '{value}' is not one of {', '.join(map(str, self.choices))}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low = 0.0 if self.positive and self.minimum is None else self.minimum
            if self.positive and not value > low:
                return (f'{name} must be positive, got {value}' if low == 0
                        else f'{name} must be above {low:g}, got {value}')
            if low is not None and value < low:
                return f'{name} must be at least {low:g}, got {value}'
            if self.maximum is not None and value > self.maximum:
                return f'{name} must be at most {self.maximum:g}, got {value}'
        return None

    def descriptor(self):
        """The ParameterDescriptor of this parameter (description, range, read_only)."""
        from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

        text = self.description
        if self.choices:
            text += f" (one of {', '.join(map(str, self.choices))})"
        descriptor = ParameterDescriptor(description=text, read_only=not self.dynamic,
                                         dynamic_typing=self.dynamic_typing)
        low = 0 if self.positive and self.minimum is None else self.minimum
        if low is None and self.maximum is None or isinstance(self.default, bool):
            return descriptor
        if isinstance(self.default, int) and not self.dynamic_typing:
            descriptor.integer_range = [IntegerRange(
                from_value=-INT64 if low is None else int(math.ceil(low)),
                to_value=INT64 if self.maximum is None else int(self.maximum), step=0)]
        elif isinstance(self.default, float):
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=-math.inf if low is None else float(low),
                to_value=math.inf if self.maximum is None else float(self.maximum), step=0.0)]
        return descriptor

    def allowed(self) -> str:
        """The allowed values in words, for the README table."""
        if self.choices:
            return ', '.join(f'`{c}`' for c in self.choices)
        low = 0 if self.positive and self.minimum is None else self.minimum
        if low is None and self.maximum is None:
            return ''
        left = '(' if self.positive else '['
        right = ']' if self.maximum is not None else ')'
        return (f"{left}{'-inf' if low is None else f'{low:g}'}, "
                f"{'inf' if self.maximum is None else f'{self.maximum:g}'}{right}")


def _kind(value: Any) -> str:
    """What kind of value a dynamically typed parameter must keep (ints count as numbers)."""
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    return 'a list'


def parameter(default: Any, description: str, **limits: Any) -> Any:
    """A dataclass field declaring one parameter (`limits`: Declaration's keyword fields)."""
    spec = {'default': default, 'description': description, **limits}
    if default is None:                            # an array that may stay unset: empty
        return field(default=(), metadata={'parameter': spec})
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata={'parameter': spec})
    return field(default=default, metadata={'parameter': spec})


def group(schema: type) -> Any:
    """A dataclass field holding a nested parameter dataclass (its names get a `field.` prefix)."""
    return field(default_factory=schema, metadata={'group': schema})


def declarations(schema: type, prefix: str = '') -> list[Declaration]:
    """Every parameter of the dataclass `schema`, nested groups flattened to dotted names."""
    out: list[Declaration] = []
    for f in fields(schema):
        if 'group' in f.metadata:
            out += declarations(f.metadata['group'], f'{prefix}{f.name}.')
        else:
            out.append(Declaration(f'{prefix}{f.name}', **f.metadata['parameter']))
    return out


def build(schema: type[S], flat: dict[str, Any], prefix: str = '') -> S:
    """An instance of `schema` from flat dotted values (missing ones keep their defaults)."""
    values = {}
    for f in fields(schema):
        name = f'{prefix}{f.name}'
        if 'group' in f.metadata:
            values[f.name] = build(f.metadata['group'], flat, f'{name}.')
        elif name in flat and flat[name] is not None:
            value = flat[name]
            if isinstance(f.default, float) and not isinstance(value, bool):
                value = float(value)
            elif not isinstance(value, (str, bool, int, float)):
                value = tuple(value)                      # lists and array.array
            values[f.name] = value
    return schema(**values)


class NodeParameters(Generic[S]):
    """The parameters of `schema` (plus `extra` declarations) declared on `node`, kept typed.

    A value refused at declaration (a parameter file, an override) is replaced by the default and
    listed in `problems`, so the node stays up and can report why it does not start.
    """

    def __init__(self, node, schema: type[S], extra: Iterable[Declaration] = (),
                 on_change: Callable[[S], None] | None = None,
                 dynamic_typing: bool = False) -> None:
        from rcl_interfaces.msg import ParameterDescriptor
        from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

        self._node = node
        self._schema = schema
        self.declarations = {d.name: replace(d, dynamic_typing=d.dynamic_typing or dynamic_typing)
                             for d in [*declarations(schema), *extra]}
        self.problems: list[str] = []
        self._on_change = on_change
        self._flat: dict[str, Any] = {}
        self._declaring = True
        node.add_on_set_parameters_callback(self._on_set)
        for d in self.declarations.values():
            default = _parameter_type(d.array_type) if d.array_type else d.default
            # Declared without its range first, so that a value out of range is refused by
            # _on_set in this module's words; the range is added once the value is in.
            full = d.descriptor()
            ranged = bool(full.integer_range or full.floating_point_range)
            first = ParameterDescriptor(description=full.description,
                                        dynamic_typing=full.dynamic_typing) if ranged else full
            try:
                declared = node.declare_parameter(d.name, default, first)
            except (InvalidParameterValueException, InvalidParameterTypeException) as exc:
                self.problems.append(_reason(exc, d))
                declared = node.declare_parameter(d.name, default, first, ignore_override=True)
            if ranged:
                full.type = node.describe_parameter(d.name).type
                node.set_descriptor(d.name, full)
            self._flat[d.name] = declared.value
        self._declaring = False
        self.values: S = build(schema, self._flat)

    def flat(self, names: Iterable[str]) -> dict[str, Any]:
        """Current values of `names` by dotted name (the controller's settings)."""
        return {name: self._flat[name] for name in names}

    def _on_set(self, changes: list):
        from rcl_interfaces.msg import SetParametersResult

        mine = [c for c in changes if c.name in self.declarations]
        for change in mine:
            problem = self.declarations[change.name].problem(change.value)
            if problem:
                return SetParametersResult(successful=False, reason=problem)
        if mine and not self._declaring:
            self._flat.update({c.name: c.value for c in mine})
            self.values = build(self._schema, self._flat)
            if self._on_change is not None:
                self._on_change(self.values)
        return SetParametersResult(successful=True)


def _parameter_type(array_type: str):
    from rclpy.parameter import Parameter

    return {'string': Parameter.Type.STRING_ARRAY}[array_type]


def _reason(exc: Exception, declaration: Declaration) -> str:
    """The refusal text of a declaration exception (rclpy wraps it in its own words)."""
    text = str(exc).removesuffix(f': {declaration.name}')
    match = re.search(r'Reason: (.*)$', text)
    return match.group(1) if match else text


# --- README tables ------------------------------------------------------------------------------

def node_declarations(node: str) -> list[Declaration]:
    """The declarations of a node by name (one of NODE_MODULES)."""
    node_class = importlib.import_module(NODE_MODULES[node]).NODE_CLASS
    return [*declarations(node_class.PARAMETERS), *node_class.EXTRA_PARAMETERS]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return f'`{str(value).lower()}`'
    if isinstance(value, str):
        return f'`{value}`' if value else '`""`'
    if isinstance(value, (list, tuple)):
        return '`[' + ', '.join(map(str, value)) + ']`'
    return '' if value is None else repr(value)


def markdown_table(node: str) -> str:
    """The README parameter table of `node`, generated from its declarations."""
    rows = ['| parameter | default | allowed | set while running | |', '|---|---|---|---|---|']
    for d in node_declarations(node):
        rows.append(f"| `{d.name}` | {_cell(d.default)} | {d.allowed()} | "
                    f"{'yes' if d.dynamic else ''} | {d.description.replace('|', '/')} |")
    return '\n'.join(rows) + '\n'


TABLE = re.compile(r'(<!-- parameters: (\w+) -->\n)(.*?)(<!-- end parameters -->)', re.S)


def readme_with_tables(text: str) -> str:
    """`text` with every marked parameter table replaced by the generated one."""
    return TABLE.sub(lambda m: m.group(1) + markdown_table(m.group(2)) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    """Print a node's parameter table, or rewrite the tables of a README."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--markdown', metavar='NODE', choices=sorted(NODE_MODULES))
    what.add_argument('--readme', metavar='README.md', type=Path,
                      help='rewrite the tables between <!-- parameters: NODE --> markers')
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table(args.markdown))
    else:
        args.readme.write_text(readme_with_tables(args.readme.read_text()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
