"""SNMP benchmark: our poller vs net-snmp snmpget on 1,000 simulated copiers; daemon CPU.

    .venv/bin/python bench/snmp.py [--devices 1000] [--concurrency 32] [--cpu-devices 100]

One snmpsim serves every recording in tests/data/snmprec plus symlinked communities
(``dev0000``...) so each of N "devices" is its own community. Both clients GET the same OIDs
(sysUpTime + the detected profile's) from the same agent in the same run; snmpsim, a single
Python process, is shared by both and is usually the bottleneck -- the ratio is what to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.snmp.config import parse_snmp_config  # noqa: E402
from drivers.snmp.driver import SnmpDriver  # noqa: E402
from drivers.snmp.reader import reading_oids  # noqa: E402
from lab.snmp.agent import SnmpLab  # noqa: E402

RECORDINGS = Path(__file__).resolve().parents[1] / "tests" / "data" / "snmprec"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def ours(driver: SnmpDriver, names: list[str]) -> float:
    start = time.perf_counter()
    results = await asyncio.gather(*(driver.read(n) for n in names), return_exceptions=True)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise SystemExit(f"{len(failed)} reads failed, first: {failed[0]!r}")
    return elapsed


async def net_snmp(lab: SnmpLab, jobs: list[tuple[str, tuple[str, ...]]], concurrency: int
                   ) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(community: str, oids: tuple[str, ...]) -> None:
        async with gate:
            proc = await asyncio.create_subprocess_exec(
                "snmpget", "-v2c", "-c", community, "-t", "5", "-r", "1", "-Oqv",
                f"{lab.host}:{lab.port}", *oids,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, err = await proc.communicate()
            if proc.returncode:
                raise SystemExit(f"snmpget {community} failed: {err.decode().strip()}")

    start = time.perf_counter()
    await asyncio.gather(*(one(c, o) for c, o in jobs))
    return time.perf_counter() - start


async def bench(args: argparse.Namespace) -> None:
    stems = sorted(p.stem for p in RECORDINGS.glob("*.snmprec"))
    names = [f"dev{i:04d}" for i in range(args.devices)]
    links = {name: stems[i % len(stems)] for i, name in enumerate(names)}
    with SnmpLab(RECORDINGS, communities=links) as lab:
        raw = {"timeout": 5.0, "retries": 1, "max_concurrent": args.concurrency,
               "devices": [{"name": n, "host": lab.host, "port": lab.port, "community": n}
                           for n in names]}
        driver = SnmpDriver(parse_snmp_config(raw, Path(".")))
        try:
            await ours(driver, names)  # warm-up: detects each device's profile once
            t_ours = await ours(driver, names)
            jobs = [(n, reading_oids(driver.config.profiles.get(driver.last_reading(n).profile)))
                    for n in names]
            t_net = await net_snmp(lab, jobs, args.concurrency)
            cpu_names = names[: args.cpu_devices]
            rounds = 5
            before = cpu_seconds()
            for _ in range(rounds):
                await ours(driver, cpu_names)
            per_round = (cpu_seconds() - before) / rounds
        finally:
            driver.close()
    ours_rate, net_rate = args.devices / t_ours, args.devices / t_net
    print(f"devices={args.devices} concurrency={args.concurrency} "
          f"recordings={len(stems)} (each device = one community)")
    print(f"gatewayd poller : {t_ours:6.2f} s  {ours_rate:7.1f} devices/s")
    print(f"net-snmp snmpget: {t_net:6.2f} s  {net_rate:7.1f} devices/s  "
          f"({args.concurrency} processes in parallel)")
    print(f"ratio ours/net-snmp: {ours_rate / net_rate:.2f}")
    print(f"daemon CPU, {args.cpu_devices} devices once a minute: {per_round:.3f} CPU-s per "
          f"round = {per_round / 60 * 100:.2f} % of one core (mean of {rounds} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--cpu-devices", type=int, default=100)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
