"""Put the operator's values into a command, so that no value can run anything.

`$VAR`, `${VAR}` and `<placeholder>` occurrences of the command's declared
variables are replaced with the value quoted for where it stands: shell-quoted
outside quotes, backslash-escaped inside double quotes, spliced out and back
into single quotes. `$VAR` inside single quotes is left alone, as bash would.
Values of secret-named variables are never written into the command text: they
reach the shell through the environment, so the command shown and audited
holds only `$NAME`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from runbook.execution.masking import is_secret_name
from runbook.model import Command, Variable

_TOKEN = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|<(?P<placeholder>[A-Za-z0-9_][A-Za-z0-9_.:-]*)>"
)
_QUOTING_OR_TOKEN = re.compile(r"[\\'\"$<]")
"""The characters `_substitute` acts on; it copies the text between them whole."""
_DOUBLE_QUOTE_SPECIAL = re.compile(r'([\\$`"])')
_IMAGE_BEFORE_PLACEHOLDER = r"([A-Za-z0-9][A-Za-z0-9._/:-]*?):<{name}>"


class ResolveError(ValueError):
    """A value cannot be used (it holds a NUL byte, which no shell argument can)."""


@dataclass(frozen=True)
class Resolution:
    code: str
    """The command with the values substituted, ready for `bash -c`."""
    env: dict[str, str]
    """Values of env-kind variables, given to the process as environment too."""
    missing: tuple[str, ...]
    """Variables with no value from the operator, the config or the environment."""


def placeholder_name(variable: Variable) -> str:
    """The bare name of a placeholder (`<previous-sha>` and `previous-sha` both work)."""
    return variable.name.strip("<>")


def default_value(
    variable: Variable, env_settings: Mapping[str, str], environ: Mapping[str, str]
) -> str | None:
    """The value offered before the operator types: config, then environment, then the runbook."""
    name = placeholder_name(variable)
    if name in env_settings:
        return env_settings[name]
    if variable.kind == "env" and name in environ:
        return environ[name]
    return variable.default


def resolve(
    command: Command,
    provided: Mapping[str, str],
    env_settings: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    secret_names: Iterable[str] = (),
) -> Resolution:
    """Substitute values into a command.

    Args:
        command: the runbook command.
        provided: values the operator gave, by variable name (placeholders without `<>`).
        env_settings: the selected environment's `env` table from config.
        environ: the operator's environment (os.environ by default).
        secret_names: name fragments configured as secret (`[secrets] names`), besides
            the built-in ones: their values stay variable references too.

    Raises:
        ResolveError: a value contains a NUL byte.
    """
    import os

    settings = dict(env_settings or {})
    environment = os.environ if environ is None else environ
    missing: list[str] = []
    substitute: dict[str, Value] = {}
    placeholders: dict[str, Value] = {}
    exports: dict[str, Value] = {}
    child_env: dict[str, str] = {}
    for variable in command.variables:
        name = placeholder_name(variable)
        value = provided.get(name, provided.get(variable.name))
        if value is None:
            value = default_value(variable, settings, environment)
        if value is None:
            if variable.kind != "export":
                missing.append(name)
            continue
        if "\0" in value:
            raise ResolveError(f"value for {name} contains a NUL byte")
        if variable.kind == "env":
            child_env[name] = value
            if not is_secret_name(name, secret_names):
                substitute[name] = value
            continue
        if variable.kind == "export" and value == variable.default:
            continue
        # A secret typed for a placeholder or export reaches the shell through the
        # environment too, so the command shown and audited never holds it.
        text: Value = value
        if is_secret_name(name, secret_names):
            text = EnvRef(secret_env_name(name))
            child_env[text.name] = value
        (placeholders if variable.kind == "placeholder" else exports)[name] = text
    code = _substitute(command.runnable_code, substitute, placeholders)
    for name, replacement in exports.items():
        code = _replace_export(code, name, replacement)
    return Resolution(code=code, env=child_env, missing=tuple(missing))


@dataclass(frozen=True)
class EnvRef:
    """Stands for a value the shell takes from the environment variable `name`."""

    name: str


Value = str | EnvRef


def secret_env_name(name: str) -> str:
    """`api-token` -> `RUNBOOK_SECRET_API_TOKEN` (the name marks it secret for masking)."""
    return "RUNBOOK_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _quoted(value: Value, context: str) -> str:
    """The text that makes bash see `value` as one word, in a plain/double/single context."""
    if isinstance(value, EnvRef):
        reference = "${" + value.name + "}"
        return {"plain": f'"{reference}"', "double": reference}.get(context, f"'\"{reference}\"'")
    if context == "double":
        return _DOUBLE_QUOTE_SPECIAL.sub(r"\\\1", value)
    if context == "single":
        return "'" + shlex.quote(value) + "'"
    return shlex.quote(value)


def _replace_export(code: str, name: str, value: Value) -> str:
    """`export NAME=old` becomes `export NAME='new value'`, the whole old word replaced
    (`"$(oc get … -o jsonpath=…)"` included)."""
    pattern = re.compile(rf"^\s*export\s+{re.escape(name)}=", re.MULTILINE)
    quoted = _quoted(value, "plain")
    for match in reversed(list(pattern.finditer(code))):
        code = code[: match.end()] + quoted + code[_word_end(code, match.end()) :]
    return code


def _word_end(code: str, start: int) -> int:
    """Where the shell word starting at `start` ends: quotes, `$(…)` and backquotes whole."""
    closers: list[str] = []  # what each open quote or substitution waits for, innermost last
    index = start
    while index < len(code):
        char = code[index]
        wanted = closers[-1] if closers else ""
        if wanted == "'":
            if char == "'":
                closers.pop()
        elif char == "\\":
            index += 1
        elif char == wanted:
            closers.pop()
        elif code.startswith("$(", index):
            closers.append(")")
            index += 1
        elif char in '"`' or (char == "'" and wanted != '"'):
            closers.append(char)
        elif char == "(" and wanted == ")":
            closers.append(")")
        elif not closers and char in " \t\n;&|<>":
            return index
        index += 1
    return index


def _substitute(
    code: str, variables: Mapping[str, Value], placeholders: Mapping[str, Value]
) -> str:
    """Walk the code tracking bash quoting, replacing each known name with a quoted value."""
    if not variables and not placeholders:
        return code  # nothing to replace: the walk would copy it unchanged
    out: list[str] = []
    state = "plain"  # plain | single | double | ansi ($'...')
    position = 0
    while position < len(code):
        # Only quotes, backslashes, `$` and `<` change anything: copy up to the next one
        # at C speed (a 100,000-line command took seconds character by character).
        stop = _QUOTING_OR_TOKEN.search(code, position)
        if stop is None:
            out.append(code[position:])
            break
        if stop.start() > position:
            out.append(code[position : stop.start()])
            position = stop.start()
        char = code[position]
        if state in ("single", "ansi"):
            if state == "ansi" and char == "\\":
                out.append(code[position : position + 2])
                position += 2
                continue
            if char == "'":
                state = "plain"
            elif state == "single":
                match = _TOKEN.match(code, position)
                if match and match.group("placeholder") in placeholders:
                    out.append(_quoted(placeholders[match.group("placeholder")], "single"))
                    position = match.end()
                    continue
            out.append(char)
            position += 1
            continue
        if char == "\\":
            out.append(code[position : position + 2])
            position += 2
            continue
        if state == "plain" and code.startswith("$'", position):
            state = "ansi"
            out.append("$'")
            position += 2
            continue
        if state == "plain" and char == "'":
            state = "single"
        elif char == '"':
            state = "double" if state == "plain" else "plain"
        else:
            match = _TOKEN.match(code, position)
            value = _value_for(match, variables, placeholders) if match else None
            if match and value is not None:
                out.append(_quoted(value, state))
                position = match.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def _value_for(
    match: re.Match[str], variables: Mapping[str, Value], placeholders: Mapping[str, Value]
) -> Value | None:
    name = match.group("braced") or match.group("plain")
    if name is not None:
        return variables.get(name)
    return placeholders.get(match.group("placeholder"))


def image_repository(command: Command, variable: Variable) -> str | None:
    """The image repository a placeholder tags, as in `monkeytown-web:<previous-sha>`."""
    name = placeholder_name(variable)
    pattern = re.compile(_IMAGE_BEFORE_PLACEHOLDER.format(name=re.escape(name)))
    code, tagged = command.code, f":<{name}>"
    # Only the lines that tag with it are read: the pattern tried at every character of
    # a 100,000-line command took 0.4 s for each variable asked for. It never spans lines.
    at = code.find(tagged)
    while at != -1:
        start = code.rfind("\n", 0, at) + 1
        end = code.find("\n", at)
        end = len(code) if end == -1 else end
        match = pattern.search(code, start, end)
        if match:
            return match.group(1)
        at = code.find(tagged, end)
    return None


def suggestions(command: Command, variable: Variable) -> list[str]:
    """Values to offer for a variable: the literal an earlier step assigns it, and for an
    image tag the tags the Docker engine holds.

    Returns [] when there is neither (no image tag, or no engine answers).
    """
    earlier = [variable.earlier_value] if variable.earlier_value else []
    repository = image_repository(command, variable)
    if repository is None:
        return earlier
    return [*earlier, *docker_image_tags(repository)]


def docker_image_tags(repository: str) -> list[str]:
    """Tags of `repository` held by the local Docker engine, newest image first; [] without one."""
    try:
        # Imported here: the docker SDK is slow to import and only this offer needs it.
        import docker

        client = docker.from_env(timeout=3)
        try:
            images = client.images.list(name=repository)
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no engine, no permission, bad DOCKER_HOST: offer nothing
        return []
    images.sort(key=lambda image: str(image.attrs.get("Created", "")), reverse=True)
    tags: list[str] = []
    for image in images:
        for tag in image.tags:
            repo, _, name = tag.rpartition(":")
            if repo == repository and name not in tags:
                tags.append(name)
    return tags
