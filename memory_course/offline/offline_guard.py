"""Refuse network access beyond this machine, for notebooks and tests run offline.

`install()` patches `socket.socket.connect`, `connect_ex` and `socket.getaddrinfo` so
that only loopback addresses (127.0.0.0/8, ::1, `localhost`) and Unix sockets work;
anything else raises `OfflineViolation` before a packet leaves. `kernel_environment()`
is the environment under which `make notebooks` and the nbval run start their kernels:
the guard on, and the variables that would switch to real services removed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from pathlib import Path

__all__ = ["OfflineViolation", "check_address", "install", "is_installed", "kernel_environment"]

ENV_FLAG = "MEMORY_COURSE_OFFLINE"
REAL_SERVICE_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL", "DATABASE_URL")
_SITE_DIR = Path(__file__).with_name("_offline_site")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class OfflineViolation(ConnectionRefusedError):
    """A connection to a non-loopback address was attempted while offline."""


def _is_local_host(host: str) -> bool:
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def check_address(address: object) -> None:
    """Raise `OfflineViolation` unless `address` is a loopback or Unix-socket address."""
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    if isinstance(address, tuple) and address and _is_local_host(str(address[0])):
        return
    raise OfflineViolation(f"network access to {address!r} is blocked: the course runs offline")


def is_installed() -> bool:
    return getattr(socket.socket.connect, "__offline_guard__", False)


def install() -> None:
    """Block non-loopback connections and name lookups in this process (idempotent)."""
    if is_installed():
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family != socket.AF_UNIX:
            check_address(address)
        return original_connect(self, address)

    def connect_ex(self, address):
        if self.family != socket.AF_UNIX:
            check_address(address)
        return original_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None:
            name = host.decode() if isinstance(host, bytes) else str(host)
            if not _is_local_host(name):
                raise OfflineViolation(
                    f"name lookup of {name!r} is blocked: the course runs offline"
                )
        return original_getaddrinfo(host, *args, **kwargs)

    for function in (connect, connect_ex, getaddrinfo):
        function.__dict__["__offline_guard__"] = True  # the mark is_installed() looks for
    # Patched on the class so that every socket, however it was made, is checked.
    socket.socket.connect = connect  # type: ignore[method-assign]  # patching is the guard
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]  # patching is the guard
    socket.getaddrinfo = getaddrinfo


def kernel_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default `os.environ`) with the guard switched on for new Python processes."""
    env = dict(os.environ if base is None else base)
    for variable in REAL_SERVICE_VARIABLES:
        env.pop(variable, None)
    env[ENV_FLAG] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_SITE_DIR), env.get("PYTHONPATH", "")) if p)
    return env
