"""Network namespaces for the brokers of a local Apache Kafka cluster: each broker a host of its own.

A bridge in this namespace carries `10.A.B.1/24`; broker i lives in namespace `pwk<tag>n<i>` behind
a veth pair whose host end is on the bridge, at `10.A.B.(10+i)`. Clients here reach every broker
over the bridge, and the brokers reach each other the same way, so setting one host end down
(`cut`) is a real network fault: packets to and from that broker vanish, no connection is reset.
Needs root and iproute2's `ip`; the tag keeps two stacks on one machine apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


class NetnsError(Exception):
    """A namespace command failed; the message has the command and what it printed."""


def available() -> bool:
    """Root and `ip`: what creating namespaces needs."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done


@dataclass(frozen=True)
class Net:
    """The names and addresses of one cluster's namespaces, all derived from a 4-hex-digit tag."""

    tag: str
    brokers: int

    @property
    def bridge(self) -> str:
        return f"pwk{self.tag}br"

    def namespace(self, node_id: int) -> str:
        return f"pwk{self.tag}n{node_id}"

    def host_end(self, node_id: int) -> str:
        return f"pwk{self.tag}h{node_id}"

    def _ns_end(self, node_id: int) -> str:
        return f"pwk{self.tag}v{node_id}"

    def _prefix(self) -> str:
        value = int(self.tag, 16)
        return f"10.{200 + (value >> 8) % 50}.{value & 0xFF}"

    def address(self, node_id: int) -> str:
        return f"{self._prefix()}.{10 + node_id}"

    def setup(self) -> None:
        """Create the bridge and one namespace per broker (whatever of them a crash left is replaced)."""
        self.teardown()
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self._prefix()}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for node_id in range(1, self.brokers + 1):
            ns, host, inner = self.namespace(node_id), self.host_end(node_id), self._ns_end(node_id)
            _ip("netns", "add", ns)
            _ip("link", "add", host, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", ns)
            _ip("link", "set", host, "master", self.bridge)
            _ip("link", "set", host, "up")
            _ip("-n", ns, "addr", "add", f"{self.address(node_id)}/24", "dev", inner)
            _ip("-n", ns, "link", "set", inner, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def teardown(self) -> None:
        """Remove the namespaces and the bridge (their veth pairs go with them); missing ones are fine."""
        for node_id in range(1, self.brokers + 1):
            _ip("netns", "del", self.namespace(node_id), check=False)
            _ip("link", "del", self.host_end(node_id), check=False)
        _ip("link", "del", self.bridge, check=False)

    def cut(self, node_id: int) -> None:
        """Cut broker `node_id` off the network: its link goes down, nothing is closed or reset."""
        _ip("link", "set", self.host_end(node_id), "down")

    def heal(self, node_id: int) -> None:
        _ip("link", "set", self.host_end(node_id), "up")

    def exec_prefix(self, node_id: int) -> list[str]:
        """The command prefix that runs a program inside broker `node_id`'s namespace."""
        return ["ip", "netns", "exec", self.namespace(node_id)]
