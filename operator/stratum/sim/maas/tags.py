"""Tag endpoints (maasserver/api/tags.py): `tags/` and `tags/{name}/`.

Tags are manual: a `definition` (an XPath over lshw output upstream) is stored and compared by
`update_nodes`, never evaluated. Writes need `can_edit_global_entities` (administrators).
"""

from __future__ import annotations

import re

from aiohttp import web

from .errors import FormErrors, NotFound
from .forms import Form
from .model import Tag
from .permissions import can_access, require_global_edit
from .registry import API_PREFIX, Call, Handler, Result, action, deleted
from .render import machine_json, tag_json

TAG_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]+$")  # models/tag.py Tag._tag_name_regex


def _find(call: Call) -> Tag:
    tag = call.state.tags.get(call.args["name"])
    if tag is None:
        raise NotFound("No Tag matches the given query.")
    return tag


def _clean(call: Call, tag: Tag | None) -> Tag:
    """TagForm (name, comment, definition, kernel_opts) on a new tag or over an existing one."""
    form = Form(call.params)
    name = form.char("name", required=tag is None)
    if name:
        if len(name) > 256:
            form.add_error("name", f"Ensure this value has at most 256 characters (it has {len(name)}).")
        elif not TAG_NAME_RE.match(name):
            form.add_error("name", "Enter a valid value.")
        elif name in call.state.tags and (tag is None or name != tag.name):
            form.add_error("name", "Tag with this Name already exists.")
    if not form.valid:
        raise FormErrors(form.errors)
    base = tag or Tag(name)

    def given(key: str, current: str) -> str:
        value = form.raw(key)
        return value if value is not None else current

    return Tag(
        name=name or base.name,
        comment=given("comment", base.comment),
        definition=given("definition", base.definition).strip(),  # TagForm.clean_definition
        kernel_opts=given("kernel_opts", base.kernel_opts),
    )


@action("read", "GET")
def list_tags(call: Call) -> Result:
    """List tags."""
    return [tag_json(t) for t in call.state.tags.values()]


@action("create", "POST")
def create_tag(call: Call) -> Result:
    """Create a tag (name, comment, definition, kernel_opts)."""
    require_global_edit(call.user)
    tag = _clean(call, None)
    call.state.tags[tag.name] = tag
    return tag_json(tag)


@action("read", "GET")
def read_tag(call: Call) -> Result:
    """Read a tag by name."""
    return tag_json(_find(call))


@action("update", "PUT")
def update_tag(call: Call) -> Result:
    """Update (or rename) a tag; machines keep it under its new name."""
    require_global_edit(call.user)
    old = _find(call)
    tag = _clean(call, old)
    call.state.tags = {
        (tag.name if key == old.name else key): (tag if key == old.name else value)
        for key, value in call.state.tags.items()
    }
    if tag.name != old.name:
        for machine in call.state.machines.values():
            machine.tags = [tag.name if t == old.name else t for t in machine.tags]
    return tag_json(tag)


@action("delete", "DELETE")
def delete_tag(call: Call) -> Result:
    """Delete a tag (it leaves every machine)."""
    require_global_edit(call.user)
    tag = _find(call)
    del call.state.tags[tag.name]
    for machine in call.state.machines.values():
        if tag.name in machine.tags:
            machine.tags.remove(tag.name)
    return deleted()


@action("machines", "GET", "machines")
def tag_machines(call: Call) -> Result:
    """The machines with this tag (those this user may view), by id."""
    tag = _find(call)
    state = call.state
    return [
        machine_json(state, m)
        for m in state.machines.values()
        if tag.name in m.tags and can_access(call.user, m)
    ]


@action("nodes", "GET", "nodes")
def tag_nodes(call: Call) -> Result:
    """The nodes with this tag (the simulator's nodes are all machines)."""
    return tag_machines.fn(call)


@action("update_nodes", "POST", "update_nodes")
def update_nodes(call: Call) -> Result:
    """Add (`add`) or remove (`remove`) system_ids; answers how many existing nodes were named."""
    require_global_edit(call.user)
    tag = _find(call)
    definition = call.params.get("definition")
    if definition is not None and definition != tag.definition:
        return web.Response(
            status=409,
            text=f"Definition supplied '{definition}' doesn't match current definition '{tag.definition}'",
            content_type="text/plain",
            charset="utf-8",
        )
    machines = call.state.machines
    to_add = [machines[s] for s in dict.fromkeys(call.params.getall("add", [])) if s in machines]
    to_remove = [machines[s] for s in dict.fromkeys(call.params.getall("remove", [])) if s in machines]
    for machine in to_add:
        if tag.name not in machine.tags:
            machine.tags.append(tag.name)
    for machine in to_remove:
        if tag.name in machine.tags:
            machine.tags.remove(tag.name)
    return {"added": len(to_add), "removed": len(to_remove)}


HANDLERS = [
    Handler(
        name="TagsHandler",
        path=API_PREFIX + "tags/",
        regex=r"^tags/$",
        params=[],
        doc="Manage all tags known to MAAS.",
        actions=[create_tag, list_tags],
    ),
    Handler(
        name="TagHandler",
        path=API_PREFIX + "tags/{name}/",
        regex=r"^tags/(?P<name>[^/]+)/$",
        params=["name"],
        doc="Tags are properties that can be associated with a Node and serve as criteria for selecting "
        "and allocating nodes.",
        actions=[read_tag, update_tag, delete_tag, tag_machines, tag_nodes, update_nodes],
    ),
]
