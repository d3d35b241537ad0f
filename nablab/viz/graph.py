"""A computation graph as Graphviz DOT text: render it with ``dot -Tpng graph.dot``."""

from collections.abc import Mapping

from ..autograd.graph import topological_order


def to_dot(tensor, names: Mapping[str, object] | None = None) -> str:
    """DOT text of the graph that produced ``tensor``: one node per op output or leaf.

    Nodes are labelled with the op name and the shape (leaves: "leaf", or their name in
    ``names``, e.g. ``dict(model.named_parameters())``); edges run from inputs to outputs.
    Only tensors that require grad are part of the graph. Call it before ``backward()``
    (or after ``backward(retain_graph=True)``): backward frees the graph.
    """
    label_of = {id(t): name for name, t in (names or {}).items()}
    if not tensor.requires_grad:
        raise ValueError("to_dot: the tensor does not require grad, so it has no graph")
    nodes = topological_order(tensor)
    index = {id(t): i for i, t in enumerate(nodes)}
    lines = ["digraph nablab {", "  rankdir=BT;", '  node [shape=box, fontname="monospace"];']
    for i, t in enumerate(nodes):
        node = t.grad_fn
        name = label_of.get(id(t)) or (node.op if node else "leaf")
        style = "" if node else ", style=filled, fillcolor=lightblue"
        lines.append(f'  n{i} [label="{_escape(name)}\\n{tuple(t.shape)}"{style}];')
    for i, t in enumerate(nodes):
        for source, _ in t.grad_fn.next_functions if t.grad_fn else ():
            if source is not None:
                lines.append(f"  n{index[id(source.output)]} -> n{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
