"""Which internal destinations a tenant- or provider-chosen URL may reach anyway
(EGRESS_ALLOW_PRIVATE_NETWORKS): parsed here, with no other dependency, so the settings can refuse
a typo at start-up; the guard itself (runtime.egress) applies it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowance:
    """Non-public destinations allowed on purpose: whole networks, or single host:port endpoints
    (the host as written in the URL, or the address it resolves to)."""

    networks: tuple[IPNetwork, ...] = ()
    endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: str | Iterable[str]) -> Allowance:
        """'10.0.0.0/8, 127.0.0.1:8080 [::1]:9000 evolution:8080' (commas or spaces). ValueError names
        the entry it cannot read."""
        items = entries.replace(",", " ").split() if isinstance(entries, str) else list(entries)
        networks: list[IPNetwork] = []
        endpoints: set[tuple[str, int]] = set()
        for raw in items:
            entry = raw.strip()
            if not entry:
                continue
            try:
                if "/" in entry:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                    continue
                if entry.startswith("["):  # [v6]:port
                    host, _, port = entry[1:].partition("]:")
                    endpoints.add((str(ipaddress.ip_address(host)), _port(port)))
                    continue
                try:  # a bare address is a one-address network
                    networks.append(ipaddress.ip_network(entry))
                    continue
                except ValueError:
                    pass
                host, sep, port = entry.rpartition(":")
                if not sep or not host or ":" in host:
                    raise ValueError(entry)
                endpoints.add((normal_host(host), _port(port)))
            except ValueError as exc:
                raise ValueError(
                    f"EGRESS_ALLOW_PRIVATE_NETWORKS: {entry!r} is neither a network (10.0.0.0/8, 127.0.0.1) "
                    "nor a host:port (127.0.0.1:8080, [::1]:8080, evolution:8080)"
                ) from exc
        return cls(tuple(networks), frozenset(endpoints))

    def allows(self, address: IPAddress, *, host: str, port: int) -> bool:
        if (str(address), port) in self.endpoints or (normal_host(host), port) in self.endpoints:
            return True
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)  # ::ffff:10.0.0.5 is 10.0.0.5
        return any(ip.version == net.version and ip in net for ip in candidates for net in self.networks)


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(text)
    return port


def normal_host(host: str) -> str:
    """A host as compared: lower case, no trailing dot, an address in its canonical form."""
    host = host.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return host
