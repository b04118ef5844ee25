"""Parses a listen address `HOST:PORT` for the metrics endpoint; purely computational, no I/O."""

from __future__ import annotations


def parse_listen_address(text: str) -> tuple[str, int]:
    """(host, port) of `HOST:PORT` (`[::]:8081` for IPv6); ValueError naming what is wrong.

    A purely computational function with no side effects.
    """
    host, colon, port_text = text.rpartition(":")
    if not colon or not host:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or "[" in host or "]" in host or (":" in host and not text.startswith("[")):
        raise ValueError(f"bad host in {text!r} (write an IPv6 address as [::1]:PORT)")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port in {text!r}: 1..65535")
    return host, int(port_text)
