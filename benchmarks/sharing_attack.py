"""Attack a real Home Assistant's viewer endpoints and print what got through and what it cost.

Run from the repository root: .venv/bin/python -m benchmarks.sharing_attack
Starts Home Assistant (this virtualenv's) in a temporary folder on a free local port, with one
camera (the real RTSP test camera, ../shared/data/video/vtest.avi at 10 fps), sharing allowed and
three shares whose PINs are hashed at the real cost (scrypt 2^17, 128 MiB). A viewer watches one
share the whole time while the others are attacked, as the attacks measured on the old code were:

1. the concurrent-guess race: 30 guesses sent at once, the right PIN last, on one share from one
   address and on another from 30 addresses; then again after the first lock window ends;
2. the dropped-connection flood: 30 attempts from one address in about 5.6 s, then 150 from 50
   addresses at once, each client hanging up 50 ms after sending (aiohttp then cancels the
   handler); every address is a loopback one, 127.0.0.0/8, which Linux lets a client bind;
3. bad credentials: stream requests with no, forged or attacker-made cookies.

Prints guesses checked per lock window against what the lockout allows (429 means refused before
any hashing, 403 checked and wrong), the resident memory of Home Assistant's process, idle and at
its peak, the viewer's pictures per second, and the pictures sent to bad credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import json
import os
from pathlib import Path
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from types import MappingProxyType
from typing import Any

import aiohttp
from homeassistant.config_entries import (
    STORAGE_VERSION as ENTRIES_VERSION,
    STORAGE_VERSION_MINOR as ENTRIES_MINOR_VERSION,
    ConfigEntry,
)

from custom_components.home_guardian.config_flow import stream_fingerprint
from custom_components.home_guardian.engine.attempts import FREE_FAILURES
from custom_components.home_guardian.engine.shares import ShareRegistry
from tests.cameras.servers import RtspCamera

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "vtest.avi"
BASE = "/api/home_guardian/share"
RACE = 30
START_TIMEOUT = 180.0


@dataclass
class Shared:
    """A share made for the benchmark: its link's token and its PIN."""

    token: str
    pin: str


@dataclass
class Watch:
    """The pictures a watching viewer received, by arrival time."""

    arrivals: list[float] = field(default_factory=list)

    def between(self, start: float, end: float) -> tuple[float, float, float]:
        """Return pictures per second on average, in the worst whole second, and the longest gap."""
        inside = [t for t in self.arrivals if start <= t <= end]
        if len(inside) < 2:
            return 0.0, 0.0, end - start
        # Whole seconds only: a last, partial second would look like a slow one.
        per_second = [0] * max(1, int(end - start))
        for arrival in inside:
            if (second := int(arrival - start)) < len(per_second):
                per_second[second] += 1
        gaps = [b - a for a, b in itertools.pairwise(inside)]
        return len(inside) / (end - start), float(min(per_second)), max(gaps)


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Return a process's resident memory in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare(config: Path, port: int, camera_url: str) -> dict[str, Shared]:
    """Write Home Assistant's configuration, the camera's entry and three shares; return them."""
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "home_guardian").symlink_to(
        ROOT / "custom_components" / "home_guardian"
    )
    (config / "configuration.yaml").write_text(
        "homeassistant:\n  name: Attacked home\n  time_zone: UTC\n"
        "  external_url: https://attacked.example.org\n"
        f"http:\n  server_host: 127.0.0.1\n  server_port: {port}\n"
        "logger:\n  default: warning\n"
    )
    entry = ConfigEntry(
        data={"stream_url": camera_url, "username": "", "password": ""},
        discovery_keys=MappingProxyType({}),
        domain="home_guardian",
        minor_version=1,
        options={"sharing": True},
        source="user",
        subentries_data=None,
        title="Living room",
        unique_id=stream_fingerprint(camera_url),
        version=1,
    )
    storage = config / ".storage"
    storage.mkdir()
    (storage / "core.config_entries").write_text(
        json.dumps(
            {
                "version": ENTRIES_VERSION,
                "minor_version": ENTRIES_MINOR_VERSION,
                "key": "core.config_entries",
                "data": {"entries": [json.loads(json.dumps(entry.as_dict(), default=str))]},
            }
        )
    )
    registry = ShareRegistry()  # the real scrypt cost
    shares = {}
    now = datetime.now(UTC)
    for name in ("viewer", "single", "many"):
        _, token, pin = registry.create(
            camera=entry.entry_id, viewer_name=name, now=now, duration=timedelta(days=1)
        )
        shares[name] = Shared(token=token, pin=pin)
    (storage / "home_guardian.shares").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 1,
                "key": "home_guardian.shares",
                "data": registry.to_dict(),
            }
        )
    )
    return shares


class Attacker:
    """Requests to the viewer endpoints from chosen loopback addresses, as browsers send them."""

    def __init__(self, port: int) -> None:
        """Aim at Home Assistant on `port`."""
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"

    def session(self, address: str = "127.0.0.1") -> aiohttp.ClientSession:
        """Return a client session whose connections leave from `address`."""
        connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True)
        return aiohttp.ClientSession(
            self.origin,
            connector=connector,
            headers={"Origin": self.origin, "Sec-Fetch-Site": "same-origin"},
        )

    async def guess(self, token: str, pin: str, address: str) -> int:
        """Send one PIN attempt and return the status."""
        async with (
            self.session(address) as client,
            client.post(f"{BASE}/session", json={"token": token, "pin": pin}) as response,
        ):
            return response.status

    async def hang_up(self, token: str, pin: str, address: str, after: float = 0.05) -> None:
        """Send one PIN attempt and close the connection `after` seconds later."""
        body = json.dumps({"token": token, "pin": pin}).encode()
        head = (
            f"POST {BASE}/session HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Origin: {self.origin}\r\nSec-Fetch-Site: same-origin\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        _, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(address, 0))
        writer.write(head.encode() + body)
        await writer.drain()
        await asyncio.sleep(after)
        writer.close()
        await writer.wait_closed()

    async def pictures_without_credentials(self, cookie: str | None) -> int:
        """Ask for the stream with a bad cookie; return the JPEG pictures received."""
        cookies = {} if cookie is None else {"home_guardian_share": cookie}
        async with (
            aiohttp.ClientSession(self.origin, cookies=cookies) as client,
            client.get(f"{BASE}/stream") as response,
        ):
            try:
                async with asyncio.timeout(1.0):
                    body = await response.content.read()
            except TimeoutError:
                body = b"timed out while still streaming"
            return body.count(b"\xff\xd8")


async def watch(origin: str, share: Shared, watched: Watch, stop: asyncio.Event) -> None:
    """Enter the share's PIN and read its stream, noting when each picture arrives."""
    headers = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    # unsafe: aiohttp keeps no cookie from an IP address otherwise, and this one is 127.0.0.1.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(origin, headers=headers, cookie_jar=jar) as client:
        async with client.post(
            f"{BASE}/session", json={"token": share.token, "pin": share.pin}
        ) as opened:
            opened.raise_for_status()
        while not stop.is_set():
            # Until the camera's first frames arrive, the share says it is offline: ask again.
            async with client.get(f"{BASE}/stream") as stream:
                if stream.status != 200:
                    await asyncio.sleep(0.5)
                    continue
                while not stop.is_set():
                    await stream.content.readuntil(b"\xff\xd9")
                    watched.arrivals.append(time.monotonic())


async def sample_memory(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """Note Home Assistant's resident memory every 20 ms."""
    while not stop.is_set():
        samples.append((time.monotonic(), rss_mib(pid)))
        await asyncio.sleep(0.02)


async def started(origin: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until Home Assistant serves the viewer's page."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession(origin) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("Home Assistant exited while starting")
            try:
                async with client.get(BASE) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("Home Assistant did not start in time")


def checked(statuses: list[int]) -> int:
    """Return how many attempts were checked: 403 wrong, 200 right; 429 was refused unchecked."""
    return sum(status in {200, 403} for status in statuses)


async def race(attacker: Attacker, share: Shared, addresses: list[str]) -> list[int]:
    """Send RACE guesses at once, the right PIN last; return their statuses in order."""
    wrong = f"{(int(share.pin) + 1) % 10**6:06d}"
    pins = [wrong] * (RACE - 1) + [share.pin]
    return list(
        await asyncio.gather(
            *(
                attacker.guess(share.token, pin, addresses[index % len(addresses)])
                for index, pin in enumerate(pins)
            )
        )
    )


async def timed(
    name: str, phases: list[tuple[str, float, float]], action: Callable[[], Awaitable[Any]]
) -> Any:
    """Run one attack, remembering when it ran."""
    begin = time.monotonic()
    result = await action()
    phases.append((name, begin, time.monotonic()))
    return result


async def attack(port: int, pid: int, shares: dict[str, Shared]) -> None:
    """Run every attack while a viewer watches; print the figures."""
    attacker = Attacker(port)
    watched = Watch()
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    memory = asyncio.create_task(sample_memory(pid, samples, stop))
    viewer = asyncio.create_task(watch(attacker.origin, shares["viewer"], watched, stop))
    deadline = time.monotonic() + START_TIMEOUT
    while len(watched.arrivals) < 50:  # ten seconds of pictures
        if viewer.done():
            viewer.result()  # raises what stopped it
        if time.monotonic() > deadline:
            raise RuntimeError("the viewer never saw a picture")
        await asyncio.sleep(0.5)
    quiet = time.monotonic()
    await asyncio.sleep(10)  # idle memory and pictures, measured with the viewer watching
    idle = statistics.median(rss for at, rss in samples if at >= quiet)
    baseline = ("watching, no attack", quiet, time.monotonic())
    phases: list[tuple[str, float, float]] = []

    one = ["127.0.0.2"]
    many = [f"127.0.1.{n}" for n in range(1, RACE + 1)]
    single_1 = await timed(
        "race, one address", phases, lambda: race(attacker, shares["single"], one)
    )
    many_1 = await timed("race, 30 addresses", phases, lambda: race(attacker, shares["many"], many))
    # The first lock lasts a minute from the last checked guess: wait it out, then race again.
    await asyncio.sleep(62)
    fresh = [f"127.0.2.{n}" for n in range(1, RACE + 1)]
    single_2 = await timed(
        "race again, next window", phases, lambda: race(attacker, shares["single"], fresh)
    )

    async def paced_flood() -> None:
        for _ in range(30):
            asyncio.get_running_loop().create_task(
                attacker.hang_up(secrets.token_urlsafe(32), "123456", "127.0.3.1")
            )
            await asyncio.sleep(5.6 / 30)
        await asyncio.sleep(1)

    async def wide_flood() -> None:
        await asyncio.gather(
            *(
                attacker.hang_up(secrets.token_urlsafe(32), "123456", f"127.0.4.{n % 50 + 1}")
                for n in range(150)
            )
        )
        await asyncio.sleep(5)  # checks still queued or hashing finish on their own

    await timed("dropped flood, one address", phases, paced_flood)
    await timed("dropped flood, 50 addresses, and 5 s after", phases, wide_flood)
    probe_after = await attacker.guess(shares["single"].token, shares["single"].pin, "127.0.5.1")

    bad = [None, secrets.token_urlsafe(32), "", "x" * 4096]
    pictures_to_bad = sum(
        [await attacker.pictures_without_credentials(cookie) for cookie in bad for _ in range(5)]
    )
    if viewer.done():
        viewer.result()  # the viewer must have watched to the end
    stop.set()
    viewer.cancel()
    memory.cancel()

    report(
        races=[
            ("race, one address, window 1", single_1, FREE_FAILURES + 1),
            ("race, 30 addresses, window 1", many_1, FREE_FAILURES + 1),
            ("race, 30 addresses, window 2", single_2, 1),
        ],
        probe_after=probe_after,
        bad=(len(bad) * 5, pictures_to_bad),
        idle=idle,
        samples=samples,
        baseline=baseline,
        phases=phases,
        watched=watched,
    )


def report(
    *,
    races: list[tuple[str, list[int], int]],
    probe_after: int,
    bad: tuple[int, int],
    idle: float,
    samples: list[tuple[float, float]],
    baseline: tuple[str, float, float],
    phases: list[tuple[str, float, float]],
    watched: Watch,
) -> None:
    """Print the figures."""
    attack_start, attack_end = phases[0][1], phases[-1][2]
    peak = max(rss for at, rss in samples if attack_start <= at <= attack_end)
    print("| attack | guesses sent | checked | lockout allows | sessions opened |")
    print("|---|---|---|---|---|")
    for name, statuses, allows in races:
        print(
            f"| {name} | {len(statuses)} | {checked(statuses)} | {allows} | {statuses.count(200)} |"
        )
    print(f"\nright PIN after the floods, share still locked: HTTP {probe_after}")
    print(f"pictures sent to bad credentials ({bad[0]} stream requests): {bad[1]}")
    print(f"\nHome Assistant's memory: idle {idle:.0f} MiB, peak under attack {peak:.0f} MiB, ")
    print(f"difference {peak - idle:.0f} MiB")
    print("\n| phase | seconds | viewer pictures/s | worst second | longest gap s |")
    print("|---|---|---|---|---|")
    for name, begin, end in [baseline, *phases]:
        rate, worst, gap = watched.between(begin, end)
        print(f"| {name} | {end - begin:.1f} | {rate:.2f} | {worst:.0f} | {gap:.2f} |")
    rate, worst, gap = watched.between(attack_start, attack_end)
    print(
        f"| all attacks | {attack_end - attack_start:.1f} | {rate:.2f} | {worst:.0f} | {gap:.2f} |"
    )


def main() -> None:
    """Start the camera and Home Assistant, attack, and clean up."""
    if not CLIP.exists():
        sys.exit(f"{CLIP} is missing: the real footage this benchmark streams")
    camera = RtspCamera(clip=CLIP)
    camera.start()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="home-guardian-attack-") as folder:
        config = Path(folder) / "config"
        shares = prepare(config, port, camera.url)
        log = (Path(folder) / "home-assistant.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", "homeassistant", "--config", str(config), "--skip-pip"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            asyncio.run(started(f"http://127.0.0.1:{port}", process))
            asyncio.run(attack(port, process.pid, shares))
        except BaseException:
            log.flush()
            print((Path(folder) / "home-assistant.log").read_text()[-4000:], file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
            camera.stop()


if __name__ == "__main__":
    main()
