"""kube-burner-ocp's and kube-burner's command lines, parsed as cobra and pflag parse them; pure.

The stand-in for kube-burner (``kube_burner_standin``) reads its arguments with this parser, not
with ``perftest_operator.contract.calls.resolve_flags``: the operator renders command lines with
that one, and a second, independent reading is what can catch it rendering one the binary would
refuse. Both take the flags and the wording from the contract (``Contract.flags_of``,
``Contract.messages``); the parsing rules are cobra v1.8.1's and pflag d5e0c0615ace's (the
versions kube-burner-ocp v1.7.3 builds with, KBO go.mod:16,74), read from their sources:

- flags may come before or after positional words (interspersed, PFLAG flag.go:1099-1106); ``--``
  ends the flags (flag.go:1110-1113); ``--name=value``, ``--name value``, ``-n value``,
  ``-nvalue``, ``-n=value`` (flag.go:990-1000,1048-1062); a bool flag never takes the next word
  (NoOptDefVal "true", PFLAG bool.go:49-57, flag.go:994-996), so ``--churn false`` sets churn
  and leaves "false" as a positional word, which kube-burner-ocp's subcommands ignore;
- the first refusal ends the parse: ``unknown flag: --x`` (flag.go:984-986), ``unknown shorthand
  flag: 'x' in -xyz`` (flag.go:1041-1043), ``flag needs an argument: --x`` (flag.go:1001-1004),
  ``bad flag syntax: ---x`` (flag.go:962-964), ``invalid argument "v" for "--x" flag: cause``
  (flag.go:470-479), with the cause worded as Go's strconv or time package words it;
- cobra prints ``Error: <message>`` on stderr, then, unless the command has SilenceUsage, its
  usage block and a blank line (COBRA command.go:1126-1136), and kube-burner-ocp exits 1
  (KBO cmd/ocp.go:148-151; KB cmd/kube-burner/kube-burner.go:534-536);
- required flags are checked after the root's PersistentPreRun and the command's PreRun
  (COBRA command.go:954-982): kube-burner-ocp has already checked the cluster's health and read
  its metadata when it reports ``required flag(s) "iterations" not set``
  (``missing_required`` is for the caller to call at that point);
- ``--help``/``-h`` prints the usage and exits 0 (COBRA command.go:905-907,1121-1124).

Values are kept as Go prints them: bools ``true``/``false``, ints in decimal, durations as
``time.Duration.String()`` (``1h0m0s``), so that a message quoting a flag's value (``higher
than configured threshold: 2m0s``) reads as kube-burner's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from perftest_operator.contract.model import Contract, Flag, FlagType, Messages

# Go's strconv.ParseBool (the values pflag's bool flags accept).
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_INT64 = (-(1 << 63), (1 << 63) - 1)
# Go's time.ParseDuration units, in nanoseconds.
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")
# pflag's UnquoteUsage: the type name shown after a flag in the usage block.
_TYPE_NAMES = {
    "bool": "",
    "float64": "float",
    "stringSlice": "strings",
    "intSlice": "ints",
    "stringArray": "stringArray",
}


class ParseError(Exception):
    """A refusal at parse time; ``str()`` is cobra's message without its ``Error:`` prefix."""


class HelpRequested(Exception):
    """``--help`` or ``-h``: cobra prints the usage and exits 0."""


class UnknownCommand(Exception):
    """The first word names no subcommand this contract knows."""


@dataclasses.dataclass(frozen=True)
class Command:
    """One cobra command: its path, its own flags and the root's persistent ones."""

    path: str  # "kube-burner-ocp cluster-density-v2", "kube-burner init"
    workload: str | None  # the kube-burner-ocp subcommand; None for kube-burner init
    local: tuple[Flag, ...]
    inherited: tuple[Flag, ...]
    silence_usage: bool
    sort_local: bool = True

    @property
    def name(self) -> str:
        return self.path.rsplit(" ", 1)[-1]

    def flag(self, name: str) -> Flag | None:
        return next((f for f in (*self.local, *self.inherited) if f.name == name), None)

    def shorthand(self, char: str) -> Flag | None:
        return next((f for f in (*self.local, *self.inherited) if f.shorthand == char), None)


@dataclasses.dataclass(frozen=True)
class CommandLine:
    """The value of every flag (defaults included) and which ones the arguments set."""

    command: Command
    values: Mapping[str, str]
    changed: frozenset[str]
    positional: tuple[str, ...]


def command_of(contract: Contract, tool: str, args: Sequence[str]) -> tuple[Command, list[str]]:
    """The command ``tool args`` runs and the arguments left for it.

    kube-burner-ocp's first word names its subcommand (cobra's Find, COBRA command.go:645-681);
    kube-burner runs custom configurations only through ``init``. Raises UnknownCommand.
    """
    if tool == contract.custom.tool:
        custom = contract.custom
        if not args or args[0] != custom.subcommand:
            raise UnknownCommand(args[0] if args else "")
        persistent = set(custom.persistent_flags)
        return (
            Command(
                path=f"{custom.tool} {custom.subcommand}",
                workload=None,
                local=tuple(f for f in custom.flags if f.name not in persistent),
                inherited=tuple(f for f in custom.flags if f.name in persistent),
                silence_usage=custom.silence_usage,
                sort_local=custom.sort_flags,
            ),
            list(args[1:]),
        )
    if not args or args[0] not in contract.workloads:
        raise UnknownCommand(args[0] if args else "")
    workload = contract.workloads[args[0]]
    return (
        Command(
            path=f"{contract.tool} {workload.name}",
            workload=workload.name,
            local=workload.flags,
            inherited=contract.flags,
            silence_usage=workload.silence_usage,
        ),
        list(args[1:]),
    )


def go_quote(text: str) -> str:
    """Go's %q of a string, for the texts these messages quote (printable ASCII as is)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


def _parse_bool(value: str, messages: Messages) -> str:
    if value in _TRUE:
        return "true"
    if value in _FALSE:
        return "false"
    raise ValueError(messages.causes["bool"].format(value=value))


def _parse_int(value: str, messages: Messages) -> str:
    """strconv.ParseInt(value, 0, 64): base prefixes 0x, 0o, 0b and a leading 0 (octal)."""
    text = value
    sign = 1
    if text[:1] in "+-" and text:
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    base, digits = 10, text
    lowered = text.lower()
    if lowered.startswith(("0x", "0o", "0b")):
        base, digits = {"x": 16, "o": 8, "b": 2}[lowered[1]], text[2:]
    elif len(text) > 1 and text.startswith("0"):
        base, digits = 8, text[1:]
    if "_" in digits and (digits.startswith("_") or digits.endswith("_") or "__" in digits):
        raise ValueError(messages.causes["int"].format(value=value))
    try:
        if not digits or digits.startswith(("+", "-")):
            raise ValueError
        number = sign * int(digits.replace("_", ""), base)
    except ValueError:
        raise ValueError(messages.causes["int"].format(value=value)) from None
    if not _INT64[0] <= number <= _INT64[1]:
        raise ValueError(messages.causes["intRange"].format(value=value))
    return str(number)


def parse_go_duration(value: str, messages: Messages) -> int:
    """time.ParseDuration: nanoseconds of ``1h30m``, ``1.5s``, ``300ms``; ValueError worded as Go."""
    invalid = ValueError(messages.causes["duration"].format(value=value))
    text = value
    negative = text.startswith("-")
    text = text.lstrip("+-") if text[:1] in "+-" else text
    if text == "0":
        return 0
    if not text:
        raise invalid
    total = 0.0
    position = 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None or not match.group(1) or match.group(1) == ".":
            raise invalid
        number, unit = match.groups()
        if not unit:
            raise ValueError(messages.causes["durationUnit"].format(value=value))
        if unit not in _UNITS:
            raise ValueError(messages.causes["durationUnknownUnit"].format(unit=unit, value=value))
        total += float(number) * _UNITS[unit]
        position = match.end()
    nanoseconds = round(total)
    if nanoseconds > _INT64[1]:
        raise invalid
    return -nanoseconds if negative else nanoseconds


def _fraction(value: int, precision: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction's digits without trailing zeros, and the integer part."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def format_go_duration(nanoseconds: int) -> str:
    """time.Duration.String(): ``1h0m0s``, ``2m0s``, ``1.5s``, ``300ms``, ``0s``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value < 1_000_000_000:
        if value < 1_000:
            return f"{sign}{value}ns"
        precision, unit = (3, "µs") if value < 1_000_000 else (6, "ms")
        fraction, whole = _fraction(value, precision)
        return f"{sign}{whole}{fraction}{unit}"
    fraction, seconds = _fraction(value, 9)
    text = f"{seconds % 60}{fraction}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def _value(flag: Flag, value: str, messages: Messages) -> str:
    """The flag's value as Go prints it; ValueError with the cause when the type refuses it."""
    if flag.type is FlagType.BOOL:
        return _parse_bool(value, messages)
    if flag.type is FlagType.INT:
        return _parse_int(value, messages)
    if flag.type is FlagType.DURATION:
        return format_go_duration(parse_go_duration(value, messages))
    if flag.type is FlagType.FLOAT64:
        try:
            float(value)
        except ValueError:
            cause = f"strconv.ParseFloat: parsing {go_quote(value)}: invalid syntax"
            raise ValueError(cause) from None
    return value


def _flag_label(flag: Flag) -> str:
    """How FlagSet.Set names a flag in "invalid argument" (PFLAG flag.go:470-479)."""
    return f"-{flag.shorthand}, --{flag.name}" if flag.shorthand else f"--{flag.name}"


class _Parser:
    def __init__(self, command: Command, messages: Messages) -> None:
        self.command = command
        self.messages = messages
        self.values: dict[str, str] = {}
        self.slices: dict[str, list[str]] = {}
        self.changed: set[str] = set()
        self.positional: list[str] = []

    def set(self, flag: Flag, value: str) -> None:
        try:
            parsed = _value(flag, value, self.messages)
        except ValueError as exc:
            raise ParseError(
                self.messages.invalid_argument.format(
                    value=go_quote(value)[1:-1], flag=_flag_label(flag), cause=str(exc)
                )
            ) from None
        if flag.type in (FlagType.STRING_SLICE, FlagType.STRING_ARRAY, FlagType.INT_SLICE):
            # The first use replaces the default, later ones append (PFLAG string_slice.go:47-52).
            items = self.slices.setdefault(flag.name, [])
            items.extend(parsed.split(",") if flag.type is not FlagType.STRING_ARRAY else [parsed])
            parsed = "[" + ",".join(items) + "]"
        self.values[flag.name] = parsed
        self.changed.add(flag.name)

    def parse(self, args: list[str]) -> None:
        while args:
            arg = args.pop(0)
            if len(arg) < 2 or not arg.startswith("-"):
                self.positional.append(arg)
            elif arg == "--":
                self.positional.extend(args)
                return
            elif arg.startswith("--"):
                self.long(arg, args)
            else:
                self.short(arg, args)

    def long(self, arg: str, args: list[str]) -> None:
        name, equals, value = arg[2:].partition("=")
        if not name or name.startswith(("-", "=")):
            raise ParseError(self.messages.bad_syntax.format(arg=arg))
        flag = self.command.flag(name)
        if flag is None:
            if name == "help":
                raise HelpRequested
            raise ParseError(self.messages.unknown_flag.format(flag=name))
        if equals:
            self.set(flag, value)
        elif flag.type is FlagType.BOOL:
            self.set(flag, "true")
        elif args:
            self.set(flag, args.pop(0))
        else:
            raise ParseError(self.messages.needs_argument.format(flag=name))

    def short(self, arg: str, args: list[str]) -> None:
        shorthands = arg[1:]
        while shorthands:
            char, rest = shorthands[0], shorthands[1:]
            flag = self.command.shorthand(char)
            if flag is None:
                if char == "h":
                    raise HelpRequested
                raise ParseError(self.messages.unknown_shorthand.format(char=char, arg=arg))
            if rest.startswith("="):
                self.set(flag, rest[1:])
                return
            if flag.type is FlagType.BOOL:
                self.set(flag, "true")
                shorthands = rest
                continue
            if rest:
                self.set(flag, rest)
            elif args:
                self.set(flag, args.pop(0))
            else:
                raise ParseError(self.messages.needs_argument_shorthand.format(char=char))
            return


def parse_command_line(command: Command, args: Sequence[str], messages: Messages) -> CommandLine:
    """Every flag's value after ``args``; raises ParseError or HelpRequested as pflag does."""
    parser = _Parser(command, messages)
    parser.parse(list(args))
    # The contract keeps defaults as Go prints them (durations as Duration.String()).
    values = {f.name: f.default for f in (*command.inherited, *command.local)}
    values.update(parser.values)
    return CommandLine(command, values, frozenset(parser.changed), tuple(parser.positional))


def missing_required(line: CommandLine, messages: Messages) -> str | None:
    """cobra's ``required flag(s) "a", "b" not set``, or None (COBRA command.go:1149-1170)."""
    missing = sorted(
        f.name for f in line.command.local if f.required and f.name not in line.changed
    )
    if not missing:
        return None
    return messages.required_flags.format(flags=", ".join(go_quote(name) for name in missing))


def _usage_default(flag: Flag) -> str:
    """`` (default X)`` unless X is the type's zero value (PFLAG flag.go:538-566,731-737)."""
    zero = {
        FlagType.BOOL: ("false",),
        FlagType.DURATION: ("0", "0s"),
        FlagType.INT: ("0",),
        FlagType.FLOAT64: ("0",),
        FlagType.STRING: ("",),
        FlagType.STRING_SLICE: ("[]",),
        FlagType.STRING_ARRAY: ("[]",),
        FlagType.INT_SLICE: ("[]",),
    }[flag.type]
    if flag.default in zero:
        return ""
    if flag.type is FlagType.STRING:
        return f" (default {go_quote(flag.default)})"
    return f" (default {flag.default})"


def flag_usages(flags: Sequence[Flag], *, sort: bool = True) -> str:
    """pflag's FlagUsagesWrapped(0): one aligned line per flag (PFLAG flag.go:675-750)."""
    lines = []
    for flag in sorted(flags, key=lambda f: f.name) if sort else flags:
        head = f"  -{flag.shorthand}, --{flag.name}" if flag.shorthand else f"      --{flag.name}"
        usage = flag.usage
        quoted = re.search(r"`([^`]*)`", usage)
        type_name = quoted.group(1) if quoted else _TYPE_NAMES.get(flag.type.value, flag.type.value)
        if quoted:
            usage = usage.replace(quoted.group(0), quoted.group(1), 1)
        if type_name:
            head += " " + type_name
        lines.append((head, usage + _usage_default(flag)))
    width = max((len(head) for head, _ in lines), default=0)
    # fmt.Fprintln(buf, line[:sidx], spacing, usage): three operands joined by spaces.
    return "".join(f"{head} {' ' * (width - len(head))} {usage}\n" for head, usage in lines)


def usage_block(command: Command, messages: Messages) -> str:
    """What cobra prints after an error unless SilenceUsage: the usage and a blank line."""
    help_flag = Flag(
        name="help",
        type=FlagType.BOOL,
        default="false",
        source="COBRA command.go:1188-1199",
        shorthand="h",
        usage=messages.help_flag.format(name=command.name),
    )
    local = flag_usages((*command.local, help_flag), sort=command.sort_local).rstrip()
    if command.inherited:
        text = messages.usage.format(
            command=command.path,
            flags=local,
            globalFlags=flag_usages(command.inherited).rstrip(),
        )
    else:
        text = messages.usage_without_global_flags.format(command=command.path, flags=local)
    return text + "\n"  # c.Println(cmd.UsageString())
